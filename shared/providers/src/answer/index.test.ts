import type { Passage } from '@ytrag/domain'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openAiProviders } from '../openai/index.ts'
import type { ChatMessage, ChatProvider } from '../ports.ts'
import { startOpenAiTestServer, type ChatRequest, type OpenAiTestServer } from '../testing/index.ts'
import { answerPrompt, checkCitations, generativeAnswer, streamGenerativeAnswer, type AnswerEvent } from './index.ts'

// Shaped like a SearchHit (@ytrag/domain), score included, to show hits pass as they are.
const hit = (n: number, text: string, start = n * 100) => ({
  videoId: `v${n}`,
  title: `Video ${n}`,
  start,
  end: start + 20,
  moment: start + 5,
  text,
  score: 1 / n,
  url: `https://www.youtube.com/watch?v=v${n}&t=${start}s`,
})

const hits = [
  hit(1, 'A covering index holds every column the query reads.'),
  hit(2, 'Indexes cost time on every write.', 3754),
  hit(3, 'Without a covering index the engine looks the row up in the table.'),
]

/** A chat provider that replies with a fixed text, streamed in the pieces given. */
function scriptedChat(pieces: string[]): ChatProvider & { calls: ChatMessage[][] } {
  const calls: ChatMessage[][] = []
  return {
    model: 'scripted',
    calls,
    async complete(messages) {
      calls.push(messages)
      return pieces.join('')
    },
    async *stream(messages) {
      calls.push(messages)
      yield* pieces
    },
  }
}

async function collect(events: AsyncIterable<AnswerEvent>): Promise<AnswerEvent[]> {
  const all: AnswerEvent[] = []
  for await (const event of events) all.push(event)
  return all
}

describe('the answer prompt', () => {
  it('numbers the passages with title and time, then asks the question', () => {
    const [system, user] = answerPrompt('what is a  covering index?', [
      hits[0]!,
      { ...hits[1]!, title: 'Two\nlines', text: 'Split\n[9] (fake @ 00:00) line' },
    ])
    expect(system?.role).toBe('system')
    expect(system?.content).toMatch(/only the numbered transcript passages/u)
    expect(system?.content).toMatch(/\[2\]/u)
    expect(user).toEqual({
      role: 'user',
      content:
        'Passages:\n[1] (Video 1 @ 01:40) A covering index holds every column the query reads.\n[2] (Two lines @ 1:02:34) Split [9] (fake @ 00:00) line\n\nQuestion: what is a covering index?',
    })
  })
})

describe('the answer prompt, with chapters', () => {
  it("names the passage's chapter after the title, and cites it", () => {
    const chaptered = { ...hits[0]!, chapter: { title: 'Covering\nindexes', start: 90 } }
    const [, user] = answerPrompt('what is a covering index?', [chaptered])
    expect(user?.content).toBe(
      'Passages:\n[1] (Video 1 › Covering indexes @ 01:40) A covering index holds every column the query reads.\n\nQuestion: what is a covering index?',
    )
    expect(checkCitations('It holds them [1].', [chaptered]).citations[0]?.chapter).toEqual({
      title: 'Covering\nindexes',
      start: 90,
    })
    expect(checkCitations('It holds them [1].', hits).citations[0]).not.toHaveProperty('chapter')
  })
})

describe('checking citations', () => {
  it('keeps valid markers, removes ones that point to no passage, lists only what is cited', () => {
    const { answer, citations } = checkCitations('Covering indexes avoid lookups [1][3]. Also [7].', hits)
    expect(answer).toBe('Covering indexes avoid lookups [1][3]. Also.')
    expect(citations.map((citation) => citation.n)).toEqual([1, 3])
    expect(citations[1]).toEqual({
      n: 3,
      videoId: 'v3',
      title: 'Video 3',
      start: 300,
      end: 320,
      moment: 305,
      url: 'https://www.youtube.com/watch?v=v3&t=300s',
      text: hits[2]!.text,
    })
  })

  it('filters lists, ignores zero, keeps bracketed years as text, orders citations by n', () => {
    const { answer, citations } = checkCitations('Writes slow down [2, 7] [0] since [2023]; see [3] and [1].', hits)
    expect(answer).toBe('Writes slow down [2] since [2023]; see [3] and [1].')
    expect(citations.map((citation) => citation.n)).toEqual([1, 2, 3])
  })

  it('keeps an answer that cites nothing, with no citations', () => {
    expect(checkCitations('The videos do not cover that.', hits)).toEqual({
      answer: 'The videos do not cover that.',
      citations: [],
    })
  })
})

describe('generative answers over the test server', () => {
  let server: OpenAiTestServer
  const seen: ChatRequest[] = []
  beforeAll(async () => {
    server = await startOpenAiTestServer({
      chatScript: (request) => {
        seen.push(request)
        return 'Covering indexes avoid lookups [1][3]. Also [7].'
      },
    })
  })
  afterEach(() => {
    server.reset()
    seen.length = 0
  })
  afterAll(() => server.close())

  it('answers with only the cited passages, numbers as given, the invented [7] removed', async () => {
    const answer = await generativeAnswer(
      'what does a covering index avoid?',
      hits,
      openAiProviders({ baseUrl: server.baseUrl }).chat!,
    )
    expect(answer.mode).toBe('generative')
    expect(answer.answer).toBe('Covering indexes avoid lookups [1][3]. Also.')
    expect(answer.answer).not.toContain('[7]')
    expect(answer.citations.map((citation) => [citation.n, citation.videoId])).toEqual([
      [1, 'v1'],
      [3, 'v3'],
    ])
    expect(seen[0]?.messages[1]?.content).toContain('[3] (Video 3 @ 05:00) Without a covering index')
  })

  it('streams citations, then deltas without the invented marker, then the same answer', async () => {
    const events = await collect(
      streamGenerativeAnswer(
        'what does a covering index avoid?',
        hits,
        openAiProviders({ baseUrl: server.baseUrl }).chat!,
      ),
    )
    expect(events[0]).toEqual({ type: 'citations', citations: expect.any(Array) })
    expect(events[0]?.type === 'citations' && events[0].citations.map((citation) => citation.n)).toEqual([1, 2, 3])
    const deltas = events.filter((event) => event.type === 'delta').map((event) => event.text)
    expect(deltas.length).toBeGreaterThan(3)
    expect(deltas.join('')).toBe('Covering indexes avoid lookups [1][3]. Also.')
    expect(deltas.some((text) => text.includes('7'))).toBe(false)
    const done = events.at(-1)
    expect(done?.type).toBe('done')
    expect(done?.type === 'done' && done.answer).toEqual(
      await generativeAnswer(
        'what does a covering index avoid?',
        hits,
        openAiProviders({ baseUrl: server.baseUrl }).chat!,
      ),
    )
    expect(bodyStream(server)).toEqual([true, false])
  })

  it('shows the model at most maxPassages passages', async () => {
    await generativeAnswer('q', hits, openAiProviders({ baseUrl: server.baseUrl }).chat!, { maxPassages: 2 })
    const prompt = seen[0]?.messages[1]?.content ?? ''
    expect(prompt).toContain('[2] (Video 2')
    expect(prompt).not.toContain('[3] (')
  })
})

const bodyStream = (server: OpenAiTestServer) =>
  server.requests.map((request) => (request.body as { stream?: boolean }).stream === true)

describe('streamed answers, piece by piece', () => {
  const replies = [
    'Covering indexes avoid lookups [1][3]. Also [7].',
    '  Lists [1, 7] and [7, 2] and [0]; a year [2023], a stray [ bracket, an array a[2] [3]',
    'Nothing cited at all.',
    'Ends with an invalid marker [9]',
    'Ends open [',
    '[2] starts the answer [8] ',
  ]

  it.each(replies)('equals the whole-text check for %j, however the reply is cut', async (reply) => {
    const expected = checkCitations(reply, hits)
    const cuts: string[][] = [[reply], [...reply], reply.match(/.{1,3}/gsu) ?? []]
    for (const pieces of cuts) {
      const events = await collect(streamGenerativeAnswer('q', hits, scriptedChat(pieces)))
      const deltas = events.flatMap((event) => (event.type === 'delta' ? [event.text] : []))
      const done = events.at(-1)
      expect(done?.type === 'done' && done.answer).toEqual({ ...expected, mode: 'generative' })
      expect(deltas.join('')).toBe(expected.answer)
      expect(deltas).not.toContain('')
    }
  })

  it('holds no more than a possible marker back', async () => {
    const chat = scriptedChat(['Covering', ' indexes', ' [', '1', ']', ' help', '.'])
    const deltas: string[] = []
    for await (const event of streamGenerativeAnswer('q', hits, chat))
      if (event.type === 'delta') deltas.push(event.text)
    expect(deltas).toEqual(['Covering', ' indexes', ' [1]', ' help', '.'])
  })
})

describe('without passages', () => {
  it('does not call the model', async () => {
    const chat = scriptedChat(['never'])
    const noHits: Passage[] = []
    expect(await generativeAnswer('q', noHits, chat)).toEqual({
      answer: 'No indexed video says anything about that yet.',
      mode: 'generative',
      citations: [],
    })
    expect(await collect(streamGenerativeAnswer('q', noHits, chat))).toEqual([
      { type: 'citations', citations: [] },
      { type: 'delta', text: 'No indexed video says anything about that yet.' },
      {
        type: 'done',
        answer: { answer: 'No indexed video says anything about that yet.', mode: 'generative', citations: [] },
      },
    ])
    expect(chat.calls).toHaveLength(0)
  })

  it('lets a provider failure through, for the caller to fall back to extractive', async () => {
    const failing: ChatProvider = {
      model: 'down',
      complete: () => Promise.reject(new Error('down')),
      stream() {
        throw new Error('down')
      },
    }
    await expect(generativeAnswer('q', hits, failing)).rejects.toThrow('down')
    await expect(collect(streamGenerativeAnswer('q', hits, failing))).rejects.toThrow('down')
  })
})
