// The page's script. It runs in the browser, not here: `npm run build:web` bundles and minifies
// it into client.generated.ts, the string the page inlines (web.test.ts fails when that is stale).
// tsc checks it against the DOM's types like any other code here.

/** What the page reads from /v1 (the fields it shows; the API's schemas are the reference). */
interface Citation {
  n: number
  videoId: string
  title: string
  moment: number
  /** What is said at the moment, inside `text`. */
  quote?: string
  url: string
  text: string
  chapter?: { title: string; start: number }
}
interface Hit extends Omit<Citation, 'n'> {
  score: number
}
interface Job {
  jobId: string
  url: string
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'partial'
  discovered: boolean
  videos: { total: number; indexed: number; failed: number; skipped: number }
  errors: { videoId?: string; stage?: string; message: string }[]
  skipped: { videoId: string; reason: string }[]
}
interface Stage {
  status: string
  error?: string
}
interface Video {
  videoId: string
  url: string
  title: string
  channelId?: string
  channel?: string
  publishedAt?: string
  language?: string
  status: string
  stages: { download: Stage; transcribe: Stage; index: Stage }
  transcript?: { source: string; language: string; model?: string }
  chunkCount: number
  error?: string
  /** A media file of a video not on YouTube that a browser can play. */
  mediaUrl?: string
}
interface Channel {
  channelId: string
  url: string
  title?: string
  intervalSeconds: number
  nextSyncAt: string
  lastSyncAt?: string
  lastOutcome?: string
  lastError?: string
  consecutiveFailures: number
  videosFoundLastSync?: number
}

/** Runs the page: views by URL hash, the API key, and the four views' forms and lists. */
export function startPage(): void {
  const KEY = 'ytrag.apiKey'
  const JOBS = 'ytrag.jobs'
  const byId = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T
  const notice = byId('notice')
  const keyInput = byId<HTMLInputElement>('api-key')

  type Child = Node | string | false | undefined
  /** An element with attributes (`on…` functions become listeners) and children. */
  function h(tag: string, attributes: Record<string, unknown> = {}, ...children: Child[]): HTMLElement {
    const element = document.createElement(tag)
    for (const [name, value] of Object.entries(attributes)) {
      if (typeof value === 'function') element.addEventListener(name.slice(2), value as EventListener)
      else if (value === true) element.setAttribute(name, '')
      else if (value !== false && value !== undefined) element.setAttribute(name, String(value))
    }
    for (const child of children) if (child !== false && child !== undefined) element.append(child)
    return element
  }

  const clock = (seconds: number) => {
    const whole = Math.floor(seconds)
    const [hours, minutes, secs] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60]
    const two = (value: number) => String(value).padStart(2, '0')
    return hours > 0 ? `${hours}:${two(minutes)}:${two(secs)}` : `${minutes}:${two(secs)}`
  }
  const when = (iso?: string) => (iso ? new Date(iso).toLocaleString() : 'never')

  function showNotice(message: string | undefined) {
    notice.textContent = message ?? ''
    notice.hidden = !message
  }

  // ---- The API: the key from localStorage on every call; a 401 asks for it in words.
  class ApiFailure extends Error {
    constructor(
      readonly status: number,
      readonly code: string,
      message: string,
      /** Seconds to wait before asking again, from a 429's Retry-After. */
      readonly retryAfter = 0,
    ) {
      super(message)
    }
  }
  async function request(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<Response> {
    const headers: Record<string, string> = { accept }
    const key = localStorage.getItem(KEY)
    if (key) headers.authorization = `Bearer ${key}`
    // A POST is JSON even with nothing to say: local mode refuses any other POST (a form's, cross-site).
    const sent = body ?? (method === 'POST' ? {} : undefined)
    if (sent !== undefined) headers['content-type'] = 'application/json'
    let response: Response
    try {
      response = await fetch(path, { method, headers, ...(sent === undefined ? {} : { body: JSON.stringify(sent) }) })
    } catch (error) {
      throw new ApiFailure(0, 'connection', `the server did not answer (${(error as Error).message})`)
    }
    if (response.ok) return response
    const answer = (await response.json().catch(() => undefined)) as
      | { error?: { code: string; message: string } }
      | undefined
    const retryAfter = Number(response.headers.get('retry-after')) || 0
    const failure = new ApiFailure(
      response.status,
      answer?.error?.code ?? 'error',
      answer?.error?.message ?? response.statusText,
      retryAfter,
    )
    if (response.status === 401) {
      showNotice(
        key
          ? 'The server refused this API key: enter a valid one in the API key field above.'
          : 'This server needs an API key: enter it in the API key field above.',
      )
      keyInput.focus()
    }
    throw failure
  }
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> =>
    (await request(method, path, body)).json() as Promise<T>
  /** Runs `work`, telling its failure in `where` (and a 401 in the notice too). */
  async function attempt(where: HTMLElement, work: () => Promise<void>) {
    try {
      await work()
    } catch (error) {
      where.textContent = error instanceof ApiFailure ? `${error.message} (${error.code})` : String(error)
      where.classList.add('bad')
    }
  }

  byId('key-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const key = keyInput.value.trim()
    if (key) localStorage.setItem(KEY, key)
    else localStorage.removeItem(KEY)
    showNotice(undefined)
    show(location.hash.slice(1))
  })
  keyInput.value = localStorage.getItem(KEY) ?? ''

  // ---- The player: YouTube's privacy-enhanced embed at the second; for other sites the source's
  // media file in a <video> when the API knows one, and always a link to the page at the moment.
  const panel = byId('player-panel')
  const player = byId('player')
  const playerCaption = byId('player-caption')
  interface YouTubePlayer {
    seekTo(seconds: number, allowSeekAhead: boolean): void
    playVideo(): void
  }
  let youTubeApi: Promise<{ Player: new (element: HTMLIFrameElement, options: object) => YouTubePlayer }> | undefined
  let embedded: { id: string; iframe: HTMLIFrameElement; player?: YouTubePlayer } | undefined
  /** The `<video>` playing a source's media file, and whose it is. */
  let html5: { videoId: string; element: HTMLVideoElement } | undefined
  /** Counts the moments asked for: an answer about an earlier one (a media URL fetched) is dropped. */
  let playing = 0

  const youTubeId = (url: string) => {
    const parsed = new URL(url)
    const id = parsed.searchParams.get('v')
    return /(^|\.)youtube\.com$/.test(parsed.hostname) && id && /^[\w-]{11}$/.test(id) ? id : undefined
  }
  /** The source's own page at `seconds`, as the API's deep links are made. */
  const deepLink = (url: string, seconds: number) => {
    const link = new URL(url)
    const at = Math.floor(seconds)
    if (youTubeId(url)) link.searchParams.set('t', `${at}s`)
    else link.hash = `t=${at}`
    return link.href
  }
  /** YouTube's IFrame API, loaded once, on the first embed; offline it never loads and src= does the seeking. */
  const loadYouTubeApi = () =>
    (youTubeApi ??= new Promise((resolve, reject) => {
      const global = window as unknown as { YT?: { Player: never }; onYouTubeIframeAPIReady?: () => void }
      global.onYouTubeIframeAPIReady = () => (global.YT ? resolve(global.YT) : reject(new Error('no YT')))
      document.head.append(
        h('script', {
          src: 'https://www.youtube.com/iframe_api',
          async: true,
          onerror: () => reject(new Error('the IFrame API did not load')),
        }),
      )
    }))

  /** Each video's media URL (`GET /v1/videos/{id}`), asked once; undefined: it has none, or the ask failed. */
  const mediaUrls = new Map<string, Promise<string | undefined>>()
  function mediaUrlOf(videoId: string) {
    let found = mediaUrls.get(videoId)
    if (!found) {
      found = api<Video>('GET', `/v1/videos/${encodeURIComponent(videoId)}`).then(
        (video) => video.mediaUrl,
        () => {
          mediaUrls.delete(videoId) // asked again next time
          return undefined
        },
      )
      mediaUrls.set(videoId, found)
    }
    return found
  }
  /** Sets a `<video>` to `seconds` once it knows its duration (before then, currentTime does not hold). */
  function seek(element: HTMLVideoElement, seconds: number) {
    const go = () => {
      element.currentTime = seconds
      element.play().catch(() => undefined) // autoplay refused: the controls are there
    }
    if (element.readyState >= HTMLMediaElement.HAVE_METADATA) go()
    else element.addEventListener('loadedmetadata', go, { once: true })
  }
  /** Stops the `<video>` being replaced: a media element taken out of the page plays on otherwise. */
  function stopHtml5() {
    if (!html5) return
    html5.element.pause()
    html5.element.removeAttribute('src')
    html5.element.load() // lets go of the file's connection
    html5 = undefined
  }
  /** The source's page at the moment, for a source this page cannot play, or besides its media file. */
  const pageLink = (video: { title: string; url: string }, at: number, lead: string) =>
    h(
      'p',
      {},
      lead,
      h(
        'a',
        { href: deepLink(video.url, at), target: '_blank', rel: 'noopener', id: 'player-link' },
        `open “${video.title}” at ${clock(at)}`,
      ),
    )

  function play(video: { videoId: string; title: string; url: string }, seconds: number) {
    const at = Math.floor(seconds)
    const turn = ++playing
    panel.hidden = false
    player.dataset.videoId = video.videoId
    player.dataset.start = String(at)
    const id = youTubeId(video.url)
    playerCaption.replaceChildren(
      `${video.title} at ${clock(at)} · `,
      h('a', { href: deepLink(video.url, at), target: '_blank', rel: 'noopener' }, 'open at the source'),
    )
    if (!id) {
      // Another site: its media file (which the API gives only for a file on the page's own host)
      // in a <video>, with the page at the moment beside it; the page alone when there is none.
      embedded = undefined
      const also = 'Or, on its page: '
      if (html5?.videoId === video.videoId && player.contains(html5.element)) {
        seek(html5.element, at)
        player.querySelector('p')?.replaceWith(pageLink(video, at, also))
        return
      }
      stopHtml5()
      const cannot = 'This source cannot be played here: '
      player.replaceChildren(pageLink(video, at, cannot))
      void mediaUrlOf(video.videoId).then((src) => {
        if (!src || turn !== playing) return
        const element = h('video', {
          controls: true,
          preload: 'metadata',
          src,
          'aria-label': `${video.title} (the source's media file)`,
        }) as HTMLVideoElement
        // The file did not play (gone, or a format this browser lacks): the page is still linked.
        element.addEventListener('error', () => {
          if (html5?.element !== element) return
          html5 = undefined
          player.replaceChildren(pageLink(video, Number(player.dataset.start), cannot))
        })
        html5 = { videoId: video.videoId, element }
        player.replaceChildren(element, pageLink(video, at, also))
        seek(element, at)
      })
      return
    }
    stopHtml5()
    if (embedded?.id === id && embedded.player) {
      embedded.player.seekTo(at, true)
      embedded.player.playVideo()
      return
    }
    const origin = encodeURIComponent(location.origin)
    const iframe = h('iframe', {
      src: `https://www.youtube-nocookie.com/embed/${id}?start=${at}&autoplay=1&enablejsapi=1&origin=${origin}`,
      title: `${video.title} (YouTube player)`,
      allow: 'autoplay; encrypted-media; picture-in-picture; fullscreen',
      referrerpolicy: 'strict-origin-when-cross-origin',
    }) as HTMLIFrameElement
    player.replaceChildren(iframe)
    const current: { id: string; iframe: HTMLIFrameElement; player?: YouTubePlayer } = { id, iframe }
    embedded = current
    loadYouTubeApi()
      .then((YT) => {
        if (embedded === current) current.player = new YT.Player(iframe, {})
      })
      .catch(() => {
        player.dataset.api = 'unavailable'
      })
  }

  const chapterAndTime = (item: { chapter?: { title: string }; moment: number }) =>
    `${item.chapter ? `${item.chapter.title} · ` : ''}${clock(item.moment)}`

  // ---- Ask: the answer streams in (server-sent events over fetch, so the key goes in a header).
  const answer = byId('answer')
  const citationList = byId('citations')
  let cited = new Map<number, Citation>()

  function citationCard(citation: Citation) {
    return h(
      'li',
      { class: 'card', id: `citation-${citation.n}` },
      h(
        'button',
        { class: 'play', type: 'button', 'data-n': citation.n, onclick: () => play(citation, citation.moment) },
        h('h3', {}, `[${citation.n}] ${citation.title}`),
        h('span', { class: 'meta' }, chapterAndTime(citation)),
        h('blockquote', { class: 'quote' }, ...withMoment(citation.text, citation.quote)),
      ),
    )
  }
  /** A passage with what is said at its moment marked: the words its button plays first. */
  function withMoment(text: string, quote: string | undefined) {
    const at = quote ? text.indexOf(quote) : -1
    if (!quote || at < 0) return [text]
    return [text.slice(0, at), h('mark', { class: 'moment' }, quote), text.slice(at + quote.length)]
  }
  /** The answer's text with each `[n]` a button that plays that citation. */
  function renderAnswer(text: string) {
    answer.replaceChildren(
      ...text.split(/(\[\d+\])/).map((part) => {
        const citation = cited.get(Number(/^\[(\d+)\]$/.exec(part)?.[1]))
        return citation ? h('button', { type: 'button', onclick: () => play(citation, citation.moment) }, part) : part
      }),
    )
  }
  /** Reads server-sent events from a response body, calling `on(event, data)` for each. */
  async function readEvents(body: ReadableStream<Uint8Array>, on: (event: string, data: string) => void) {
    const reader = body.getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    for (;;) {
      const { value, done } = await reader.read()
      buffer += decoder.decode(value, { stream: !done })
      const blocks = buffer.split(/\r?\n\r?\n/)
      buffer = done ? '' : (blocks.pop() ?? '')
      for (const block of blocks) {
        let event = 'message'
        const data: string[] = []
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith('event:')) event = line.slice(6).trim()
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
        }
        if (data.length > 0) on(event, data.join('\n'))
      }
      if (done) return
    }
  }
  byId<HTMLFormElement>('ask-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const question = byId<HTMLInputElement>('question').value.trim()
    const button = (event.target as HTMLFormElement).querySelector('button')!
    button.disabled = true
    answer.classList.remove('bad')
    answer.textContent = 'Looking through the transcripts…'
    answer.setAttribute('aria-busy', 'true')
    citationList.replaceChildren()
    cited = new Map()
    let text = ''
    void attempt(answer, async () => {
      const response = await request('POST', '/v1/ask', { question }, 'text/event-stream')
      await readEvents(response.body!, (name, data) => {
        if (name === 'citations') {
          cited = new Map((JSON.parse(data) as Citation[]).map((citation) => [citation.n, citation]))
          citationList.replaceChildren(...[...cited.values()].map(citationCard))
        } else if (name === 'answer') {
          text += JSON.parse(data) as string
          answer.textContent = text
        } else if (name === 'done') {
          renderAnswer((JSON.parse(data) as { answer: string }).answer)
          answer.dataset.done = 'true'
        } else if (name === 'error') {
          throw new ApiFailure(200, 'chat_failed', (JSON.parse(data) as { message: string }).message)
        }
      })
      if (cited.size === 0 && !text.trim()) answer.textContent = 'Nothing in the indexed videos answers that.'
    }).finally(() => {
      button.disabled = false
      answer.removeAttribute('aria-busy')
    })
  })

  // ---- Search: passages with the words that matched marked, filtered by video, channel, date.
  const hitList = byId('hits')
  const searchStatus = byId('search-status')
  const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  function highlighted(text: string, query: string) {
    const words = query
      .split(/\W+/u)
      .filter((word) => word.length > 1)
      .map(escapeRegExp)
    if (words.length === 0) return [text]
    const pattern = new RegExp(`\\b(${words.join('|')})`, 'giu')
    return text.split(pattern).map((part, index) => (index % 2 === 1 ? h('mark', {}, part) : part))
  }
  byId<HTMLFormElement>('search-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const query = byId<HTMLInputElement>('query').value.trim()
    const videoId = byId<HTMLSelectElement>('filter-video').value
    const channelId = byId<HTMLSelectElement>('filter-channel').value
    const after = byId<HTMLInputElement>('filter-date').value
    const filter = {
      ...(videoId ? { videoIds: [videoId] } : {}),
      ...(channelId ? { channelIds: [channelId] } : {}),
      ...(after ? { publishedAfter: after } : {}),
    }
    searchStatus.classList.remove('bad')
    searchStatus.textContent = 'Searching…'
    hitList.replaceChildren()
    void attempt(searchStatus, async () => {
      const { hits } = await api<{ hits: Hit[] }>('POST', '/v1/search', {
        query,
        limit: 20,
        ...(Object.keys(filter).length ? { filter } : {}),
      })
      searchStatus.textContent = `${hits.length} passage${hits.length === 1 ? '' : 's'}`
      hitList.replaceChildren(
        ...hits.map((hit) =>
          h(
            'li',
            { class: 'card', 'data-video-id': hit.videoId },
            h(
              'button',
              { class: 'play', type: 'button', onclick: () => play(hit, hit.moment) },
              h('h3', {}, hit.title),
              h('span', { class: 'meta' }, chapterAndTime(hit)),
              h('p', { class: 'quote' }, ...highlighted(hit.text, query)),
            ),
          ),
        ),
      )
    })
  })

  // ---- Library: each video's stages, transcript source and language; its transcript; delete.
  const videoList = byId('videos')
  const libraryStatus = byId('library-status')
  const moreVideos = byId<HTMLButtonElement>('more-videos')
  let nextCursor: string | null = null
  const known = new Map<string, Video>()
  const SOURCE: Record<string, string> = {
    captions: "creator's captions",
    'auto-captions': 'automatic captions',
    'speech-to-text': 'speech-to-text',
  }

  function videoCard(video: Video) {
    const stage = (name: keyof Video['stages']) => `${name} ${video.stages[name].status}`
    const source = video.transcript
      ? `${SOURCE[video.transcript.source] ?? video.transcript.source}, ${video.transcript.language}`
      : 'no transcript yet'
    return h(
      'li',
      { class: 'card', 'data-video-id': video.videoId },
      h('h3', {}, video.title),
      h(
        'div',
        { class: 'meta' },
        [
          video.channel,
          video.publishedAt && new Date(video.publishedAt).toLocaleDateString(),
          `${video.chunkCount} passages`,
        ]
          .filter(Boolean)
          .join(' · '),
      ),
      h(
        'div',
        {},
        h(
          'strong',
          { class: video.status === 'failed' ? 'bad' : video.status === 'indexed' ? 'ok' : '' },
          video.status,
        ),
        ` · ${stage('download')} · ${stage('transcribe')} · ${stage('index')}`,
      ),
      h('div', { class: 'meta' }, `Transcript: ${source}`),
      video.error !== undefined && h('div', { class: 'bad' }, video.error),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'quiet',
            'aria-label': `Transcript: ${video.title}`,
            disabled: !video.transcript,
            onclick: () => openTranscript(video),
          },
          'Transcript',
        ),
        // Seen as "Delete"; heard with the title, so each video's button is told apart.
        h(
          'button',
          {
            type: 'button',
            class: 'quiet',
            'aria-label': `Delete “${video.title}”`,
            onclick: () => removeVideo(video),
          },
          'Delete',
        ),
      ),
    )
  }
  /** Marks `list` busy while `work` runs (a screen reader waits; so do the tests). */
  async function loading(list: HTMLElement, work: () => Promise<void>) {
    list.setAttribute('aria-busy', 'true')
    try {
      await work()
    } finally {
      list.removeAttribute('aria-busy')
    }
  }
  async function loadVideos(more = false) {
    libraryStatus.classList.remove('bad')
    await loading(videoList, () =>
      attempt(libraryStatus, async () => {
        const page = await api<{ items: Video[]; nextCursor: string | null }>(
          'GET',
          `/v1/videos?limit=50${more && nextCursor ? `&cursor=${encodeURIComponent(nextCursor)}` : ''}`,
        )
        if (!more) known.clear()
        for (const video of page.items) {
          known.set(video.videoId, video)
          mediaUrls.set(video.videoId, Promise.resolve(video.mediaUrl))
        }
        nextCursor = page.nextCursor
        moreVideos.hidden = !nextCursor
        videoList.replaceChildren(...[...known.values()].map(videoCard))
        libraryStatus.textContent = known.size
          ? `${known.size} video${known.size === 1 ? '' : 's'}`
          : 'No videos yet: ingest one.'
        fillFilters()
      }),
    )
  }
  moreVideos.addEventListener('click', () => void loadVideos(true))
  /** The search filters' choices: the videos and channels the library holds. */
  function fillFilters() {
    const options = (select: HTMLSelectElement, entries: [string, string][]) => {
      const chosen = select.value
      select.replaceChildren(
        h('option', { value: '' }, 'any'),
        ...entries.map(([value, label]) => h('option', { value, selected: value === chosen }, label)),
      )
    }
    options(
      byId('filter-video'),
      [...known.values()].map((video) => [video.videoId, video.title]),
    )
    const channels = new Map<string, string>()
    for (const video of known.values())
      if (video.channelId) channels.set(video.channelId, video.channel ?? video.channelId)
    options(byId('filter-channel'), [...channels])
  }
  async function removeVideo(video: Video) {
    if (!confirm(`Delete “${video.title}”: its transcript, passages and stored files?`)) return
    await attempt(libraryStatus, async () => {
      await api('DELETE', `/v1/videos/${encodeURIComponent(video.videoId)}`)
      const transcript = byId('transcript')
      if (transcript.dataset.videoId === video.videoId) transcript.hidden = true
      await loadVideos()
      libraryStatus.textContent = `Deleted “${video.title}”. ${libraryStatus.textContent}`
    })
  }
  async function openTranscript(video: Video) {
    const section = byId('transcript')
    const lines = byId('transcript-lines')
    const meta = byId('transcript-meta')
    meta.classList.remove('bad')
    await attempt(meta, async () => {
      const transcript = await api<{
        source: string
        language: string
        model?: string
        segments: { start: number; text: string }[]
      }>('GET', `/v1/videos/${encodeURIComponent(video.videoId)}/transcript`)
      section.dataset.videoId = video.videoId
      byId('transcript-title').textContent = `Transcript: ${video.title}`
      const model = transcript.model ? ` (${transcript.model})` : ''
      const source = `${SOURCE[transcript.source] ?? transcript.source}, ${transcript.language}${model}`
      meta.textContent = `${source} · ${transcript.segments.length} lines`
      lines.replaceChildren(
        ...transcript.segments.map((segment) =>
          h(
            'li',
            {},
            h(
              'a',
              {
                href: deepLink(video.url, segment.start),
                'data-start': Math.floor(segment.start),
                onclick: (event: MouseEvent) => {
                  event.preventDefault()
                  play(video, segment.start)
                },
              },
              h('span', { class: 'time' }, clock(segment.start)),
              segment.text,
            ),
          ),
        ),
      )
      section.hidden = false
      section.scrollIntoView({ block: 'start' })
    })
  }

  // ---- Ingest: each job's progress from the job API; channel subscriptions and their syncs.
  const jobList = byId('jobs')
  const FINISHED = new Set(['succeeded', 'failed', 'partial'])
  const tracked = new Map<string, HTMLElement>()
  const rememberedJobs = (): string[] => JSON.parse(localStorage.getItem(JOBS) ?? '[]') as string[]

  /** "<video title>: <reason> (<stage>)", the title when the library knows the video. */
  const failureInWords = ({ videoId, message, stage }: Job['errors'][number]) =>
    [videoId && `${known.get(videoId)?.title ?? videoId}:`, message, stage && `(${stage})`].filter(Boolean).join(' ')
  function renderJob(card: HTMLElement, job: Job) {
    const { total, indexed, failed, skipped } = job.videos
    const finished = indexed + failed + skipped
    const bar = h('progress', {
      max: Math.max(total, 1),
      'aria-label': `Progress of ${job.url}`,
      ...(job.discovered || total > 0 ? { value: finished } : {}),
    })
    const counts = job.discovered ? `${finished}/${total} videos` : `${finished}/${total}+ videos (still listing)`
    card.dataset.status = job.status
    card.replaceChildren(
      h('h3', {}, job.url),
      bar,
      h(
        'div',
        {},
        h('strong', { class: job.status === 'failed' ? 'bad' : FINISHED.has(job.status) ? 'ok' : '' }, job.status),
        ` · ${counts}: ${indexed} indexed, ${failed} failed, ${skipped} skipped`,
      ),
      ...job.errors.map((error) => h('div', { class: 'bad' }, failureInWords(error))),
      ...job.skipped.map((skip) => h('div', { class: 'meta' }, `${skip.videoId} skipped: ${skip.reason}`)),
    )
  }
  function track(jobId: string) {
    if (tracked.has(jobId)) return
    const card = h('li', { class: 'card', 'data-job-id': jobId, 'aria-live': 'polite' }, 'Starting…')
    tracked.set(jobId, card)
    jobList.prepend(card)
    localStorage.setItem(JOBS, JSON.stringify([jobId, ...rememberedJobs().filter((id) => id !== jobId)].slice(0, 10)))
    const poll = async () => {
      let wait = 1000
      try {
        const job = await api<Job>('GET', `/v1/jobs/${encodeURIComponent(jobId)}`)
        renderJob(card, job)
        if (FINISHED.has(job.status)) {
          void loadVideos()
          void loadChannels()
          return
        }
      } catch (error) {
        // Past the rate limit the job goes on: ask again when the server says, showing the last state.
        if (error instanceof ApiFailure && error.status === 429) wait = Math.max(wait, error.retryAfter * 1000)
        else {
          card.textContent = `${(error as Error).message}`
          card.classList.add('bad')
          if (error instanceof ApiFailure && (error.status === 404 || error.status === 401)) return
        }
      }
      setTimeout(poll, wait)
    }
    void poll()
  }
  byId<HTMLFormElement>('ingest-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const form = event.target as HTMLFormElement
    const url = byId<HTMLInputElement>('ingest-url').value.trim()
    const force = byId<HTMLInputElement>('ingest-force').checked
    const status = byId('ingest-status')
    status.textContent = ''
    status.classList.remove('bad')
    void attempt(status, async () => {
      const { jobId } = await api<{ jobId: string }>('POST', '/v1/ingest', { url, ...(force ? { force } : {}) })
      track(jobId)
      form.reset()
    })
  })

  const channelList = byId('channels')
  function channelCard(channel: Channel) {
    const found = channel.videosFoundLastSync !== undefined ? `, ${channel.videosFoundLastSync} new` : ''
    const outcome = channel.lastOutcome ? ` (${channel.lastOutcome}${found})` : ''
    const backoff =
      channel.consecutiveFailures > 0
        ? h(
            'div',
            { class: 'bad' },
            `${channel.consecutiveFailures} failed sync${channel.consecutiveFailures === 1 ? '' : 's'} in a row: ` +
              `backing off until ${when(channel.nextSyncAt)}`,
          )
        : undefined
    return h(
      'li',
      { class: 'card', 'data-channel-id': channel.channelId },
      h('h3', {}, channel.title ?? channel.channelId),
      h('div', { class: 'meta' }, `${channel.url} · every ${Math.round(channel.intervalSeconds / 60)} min`),
      h(
        'div',
        { class: 'sync-state' },
        `Last sync: ${when(channel.lastSyncAt)}${outcome} · next: ${when(channel.nextSyncAt)}`,
      ),
      backoff,
      channel.lastError !== undefined && h('div', { class: 'bad' }, channel.lastError),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'quiet',
            'aria-label': `Sync now: ${channel.title ?? channel.channelId}`,
            onclick: () => syncChannel(channel),
          },
          'Sync now',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'quiet',
            'aria-label': `Unsubscribe: ${channel.title ?? channel.channelId}`,
            onclick: () => unsubscribe(channel),
          },
          'Unsubscribe',
        ),
      ),
    )
  }
  const channelStatus = () => byId('subscribe-status')
  async function loadChannels() {
    await loading(channelList, () =>
      attempt(channelStatus(), async () => {
        const { items } = await api<{ items: Channel[] }>('GET', '/v1/channels')
        channelList.replaceChildren(
          ...(items.length ? items.map(channelCard) : [h('li', { class: 'meta' }, 'No subscriptions yet.')]),
        )
      }),
    )
  }
  async function syncChannel(channel: Channel) {
    const status = channelStatus()
    status.classList.remove('bad')
    await attempt(status, async () => {
      track((await api<{ jobId: string }>('POST', `/v1/channels/${encodeURIComponent(channel.channelId)}/sync`)).jobId)
      status.textContent = `Syncing ${channel.title ?? channel.channelId}: its job is listed above.`
    })
  }
  async function unsubscribe(channel: Channel) {
    if (!confirm(`Unsubscribe from ${channel.title ?? channel.channelId}? Its videos stay.`)) return
    await attempt(channelStatus(), async () => {
      await api('DELETE', `/v1/channels/${encodeURIComponent(channel.channelId)}`)
      await loadChannels()
    })
  }
  byId<HTMLFormElement>('subscribe-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const form = event.target as HTMLFormElement
    const url = byId<HTMLInputElement>('channel-url').value.trim()
    const backfill = byId<HTMLInputElement>('channel-backfill').value
    const status = channelStatus()
    status.textContent = ''
    status.classList.remove('bad')
    void attempt(status, async () => {
      const { channel, jobId } = await api<{ channel: Channel; jobId?: string }>('POST', '/v1/channels', {
        url,
        ...(backfill ? { backfill: Number(backfill) } : {}),
      })
      status.textContent = `Subscribed to ${channel.title ?? channel.channelId}.`
      if (jobId) track(jobId)
      form.reset()
      await loadChannels()
    })
  })

  // ---- Views: one section at a time, by the URL's hash; each loads its lists when shown.
  const views = [...document.querySelectorAll<HTMLElement>('[data-view]')]
  function show(name: string) {
    const view = views.find((candidate) => candidate.id === name) ?? views[0]!
    for (const candidate of views) candidate.hidden = candidate !== view
    for (const link of document.querySelectorAll('nav a')) {
      if (link.getAttribute('href') === `#${view.id}`) link.setAttribute('aria-current', 'page')
      else link.removeAttribute('aria-current')
    }
    if (view.id === 'library' || view.id === 'search') void loadVideos()
    if (view.id === 'ingest') {
      void loadChannels()
      for (const jobId of rememberedJobs().reverse()) track(jobId)
    }
  }
  addEventListener('hashchange', () => show(location.hash.slice(1)))
  show(location.hash.slice(1))
  // Interactive from here: what test/web times (docs/web.md has the figures).
  performance.mark('ytrag-interactive')
  document.documentElement.dataset.ready = 'true'
}
