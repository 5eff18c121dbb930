// stopword and wink-lexicon ship no types. Only what ./index.ts uses is declared; an ambient
// module file (no top-level import or export) so the declarations apply project-wide.
declare module 'stopword' {
  /** Each list is keyed by its ISO 639-3 code (`eng`, `deu`, …), plus a few variants (`porBr`). */
  const lists: Record<string, string[] | undefined>
  export = lists
}

declare module 'wink-lexicon/src/irregular-verbs.js' {
  /** Every form of an irregular verb (`built`, `build`) to its base form (`build`). */
  const verbs: Record<string, string>
  export = verbs
}

declare module 'wink-lexicon/src/irregular-nouns.js' {
  /** `singular`: each irregular plural (`children`) to its singular (`child`). */
  const nouns: { singular: Record<string, string>; plural: Record<string, string> }
  export = nouns
}
declare module 'wink-lexicon/src/wn-adjective-exceptions.js' {
  /** WordNet's irregular comparatives and superlatives to their adjective: `bigger` → `big`, `better` → `good`. */
  const exceptions: Record<string, string>
  export = exceptions
}
