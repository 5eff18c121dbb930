import { describe, expect, it } from 'vitest'
import { reciprocalRankFusion } from './index.ts'

const id = (s: string) => s

describe('reciprocalRankFusion', () => {
  it('scores each item by the sum of 1 / (k + rank)', () => {
    const fused = reciprocalRankFusion(
      [
        ['a', 'b', 'c'],
        ['b', 'd'],
      ],
      id,
    )
    expect(fused.map((f) => f.item)).toEqual(['b', 'a', 'd', 'c'])
    expect(fused[0]?.score).toBeCloseTo(1 / 62 + 1 / 61)
    expect(fused[1]?.score).toBeCloseTo(1 / 61)
    expect(fused[2]?.score).toBeCloseTo(1 / 62)
    expect(fused[3]?.score).toBeCloseTo(1 / 63)
  })

  it('ranks an item that is first in both lists first', () => {
    const fused = reciprocalRankFusion(
      [
        ['x', 'y', 'z'],
        ['x', 'z', 'y'],
      ],
      id,
    )
    expect(fused[0]?.item).toBe('x')
  })

  it('honours k, keeps the first-seen item and counts a duplicate within a list once', () => {
    const lists = [
      [
        { id: 'a', from: 1 },
        { id: 'a', from: 1 },
      ],
      [{ id: 'a', from: 2 }],
    ]
    const fused = reciprocalRankFusion(lists, (item) => item.id, 0)
    expect(fused).toEqual([{ item: { id: 'a', from: 1 }, score: 2 }])
  })

  it('keeps first-seen order on ties and handles empty input', () => {
    expect(reciprocalRankFusion([['a'], ['b']], id).map((f) => f.item)).toEqual(['a', 'b'])
    expect(reciprocalRankFusion([], id)).toEqual([])
    expect(reciprocalRankFusion([[], []], id)).toEqual([])
  })
})
