// Types of compile-cache.mjs (a plain script, so the image build needs no TypeScript), for the
// benchmark that imports it.

/** The folder the cache goes to, inside the bundle: what NODE_COMPILE_CACHE names in the image. */
export declare const COMPILE_CACHE_DIR: string

/**
 * Starts the bundle once and stops it, so Node writes its compile cache; `user` runs it as that
 * uid and gid (from root), as the image will. Gives the cache's folder.
 */
export declare function fillCompileCache(
  bundle: string,
  options?: { user?: { uid: number; gid: number } },
): Promise<string>
