/** @jsxImportSource hono/jsx */
// The page's markup, rendered once on the server with Hono's JSX: every form, label and region
// is here, so the page reads and is navigable before its script runs; the script fills the
// lists from /v1 (with the API key kept in the browser, which the server never sees here).

const Section = (props: { id: string; title: string; children?: unknown }) => (
  <section id={props.id} aria-labelledby={`${props.id}-title`} data-view hidden>
    <h2 id={`${props.id}-title`}>{props.title}</h2>
    {props.children}
  </section>
)

/** The whole document; `script` and `css` are inlined (one response, nothing else to fetch). */
export function renderPage({ script, css }: { script: string; css: string }): string {
  const page = (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>youtube-rag</title>
        {/* No icon: the browser would otherwise ask for /favicon.ico on every first visit. */}
        <link rel="icon" href="data:," />
        <style dangerouslySetInnerHTML={{ __html: css }} />
      </head>
      <body>
        <header>
          <h1>youtube-rag</h1>
          <nav aria-label="Sections">
            <a href="#ask">Ask</a>
            <a href="#search">Search</a>
            <a href="#library">Library</a>
            <a href="#ingest">Ingest</a>
          </nav>
          <form id="key-form">
            <label for="api-key" class="check">
              API key
            </label>
            <input id="api-key" type="password" autocomplete="off" placeholder="only if the server asks" />
            <button type="submit">Save</button>
          </form>
        </header>
        <div id="notice" role="alert" hidden></div>
        <main>
          <section id="player-panel" aria-label="Player" hidden>
            <div id="player"></div>
            <p id="player-caption" class="meta"></p>
          </section>

          <Section id="ask" title="Ask">
            <form id="ask-form" class="row">
              <label class="grow">
                Question
                <input
                  id="question"
                  name="question"
                  required
                  maxlength={2000}
                  placeholder="What is a covering index?"
                />
              </label>
              <button type="submit">Ask</button>
            </form>
            <p id="answer" aria-live="polite"></p>
            <ol id="citations" class="cards" aria-label="Citations"></ol>
          </Section>

          <Section id="search" title="Search">
            <form id="search-form" class="row">
              <label class="grow">
                Words
                <input id="query" name="query" required maxlength={2000} />
              </label>
              <label>
                Video
                <select id="filter-video" name="video">
                  <option value="">any</option>
                </select>
              </label>
              <label>
                Channel
                <select id="filter-channel" name="channel">
                  <option value="">any</option>
                </select>
              </label>
              <label>
                Published after
                <input id="filter-date" name="after" type="date" />
              </label>
              <button type="submit">Search</button>
            </form>
            <p id="search-status" class="meta" aria-live="polite"></p>
            <ol id="hits" class="cards" aria-label="Passages"></ol>
          </Section>

          <Section id="library" title="Library">
            <p id="library-status" class="meta" aria-live="polite"></p>
            <ul id="videos" class="cards" aria-label="Videos"></ul>
            <p>
              <button id="more-videos" type="button" class="quiet" hidden>
                More videos
              </button>
            </p>
            <section id="transcript" aria-labelledby="transcript-title" hidden>
              <h2 id="transcript-title">Transcript</h2>
              <p id="transcript-meta" class="meta"></p>
              <ol id="transcript-lines"></ol>
            </section>
          </Section>

          <Section id="ingest" title="Ingest">
            <form id="ingest-form" class="row">
              <label class="grow">
                Video, playlist or channel URL
                <input id="ingest-url" name="url" type="url" required placeholder="https://www.youtube.com/watch?v=…" />
              </label>
              <label class="check">
                <input id="ingest-force" name="force" type="checkbox" /> index again
              </label>
              <button type="submit">Ingest</button>
            </form>
            <p id="ingest-status" role="status"></p>
            <ul id="jobs" class="cards" aria-label="Jobs"></ul>
            <h2 id="channels-title">Channel subscriptions</h2>
            <form id="subscribe-form" class="row">
              <label class="grow">
                Channel URL
                <input id="channel-url" name="url" type="url" required placeholder="https://www.youtube.com/@handle" />
              </label>
              <label>
                Newest videos to index
                <input id="channel-backfill" name="backfill" type="number" min={0} max={10000} placeholder="5" />
              </label>
              <button type="submit">Subscribe</button>
            </form>
            <p id="subscribe-status" role="status"></p>
            <ul id="channels" class="cards" aria-labelledby="channels-title"></ul>
          </Section>
        </main>
        <script dangerouslySetInnerHTML={{ __html: script }} />
      </body>
    </html>
  )
  return `<!doctype html>${page.toString()}`
}
