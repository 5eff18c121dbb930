// Blob keys are relative, slash-separated paths. The same rules hold in every adapter, so a key
// that works locally works on S3, and no key can escape the directory store's root.

/** A key or prefix that breaks the rules below; the message says which rule. */
export class InvalidBlobKeyError extends Error {
  override name = 'InvalidBlobKeyError'
}

function check(value: string, what: string, allowTrailingSlash: boolean): void {
  const fail = (reason: string): never => {
    throw new InvalidBlobKeyError(`Invalid blob ${what} ${JSON.stringify(value)}: ${reason}`)
  }
  if (typeof value !== 'string' || value.length === 0) fail('it is empty')
  if (value.length > 1024) fail('it is longer than 1024 characters')
  if (value.includes('\\')) fail('backslashes are not allowed')
  if (value.includes('\0')) fail('NUL is not allowed')
  if (value.startsWith('/')) fail('it must be relative')
  const body = allowTrailingSlash && value.endsWith('/') ? value.slice(0, -1) : value
  for (const segment of body.split('/')) {
    if (segment === '') fail('it has an empty segment')
    if (segment === '.' || segment === '..') fail(`"${segment}" segments are not allowed`)
    // Names starting with a dot are reserved for the directory store's temporary files.
    if (segment.startsWith('.')) fail('segments must not start with "."')
  }
}

/**
 * Throws InvalidBlobKeyError unless `key` is a relative path of non-empty, non-dot segments.
 *
 * @example
 * assertBlobKey('videos/abc/captions.en.vtt') // ok
 * assertBlobKey('../etc/passwd')              // throws
 */
export function assertBlobKey(key: string): void {
  check(key, 'key', false)
}

/**
 * Like assertBlobKey, but allows the trailing slash of a "directory" prefix (`videos/abc/`).
 *
 * @example
 * assertBlobPrefix('videos/abc/') // ok
 */
export function assertBlobPrefix(prefix: string): void {
  check(prefix, 'prefix', true)
}
