// Types of bundle.mjs (a plain script, so the image build needs no TypeScript), for the
// benchmark and tests that import it.

/** esbuild's metafile, as far as it is read here (esbuild is not a direct dependency). */
export interface Metafile {
  inputs: Record<string, { bytes: number; imports: { path: string; kind: string; external?: boolean }[] }>
  outputs: Record<
    string,
    {
      bytes: number
      entryPoint?: string
      /** The names the output exports: a chunk made of a CommonJS module exports only `default`. */
      exports: string[]
      imports: { path: string; kind: string; external?: boolean }[]
      inputs: Record<string, { bytesInOutput: number }>
    }
  >
}

/** The Node options every function image runs with (the Dockerfile's ENV NODE_OPTIONS). */
export declare const IMAGE_NODE_OPTIONS: string

/** Where the images put jemalloc, which they preload (the Dockerfile's ENV LD_PRELOAD). */
export declare const IMAGE_JEMALLOC: string

/** jemalloc's options in the images (the Dockerfile's ENV MALLOC_CONF). */
export declare const IMAGE_MALLOC_CONF: string

/** The environment the images give Node: NODE_OPTIONS, and jemalloc preloaded when this machine has it. */
export declare function imageNodeEnv(): { NODE_OPTIONS: string; LD_PRELOAD?: string; MALLOC_CONF?: string }

export declare const EXTERNAL_PACKAGES: string[]

/** esbuild's `build`, as far as it is used here: the workspace's esbuild (tsx's, when not installed directly). */
export declare function loadEsbuild(): Promise<{
  build(options: Record<string, unknown>): Promise<{ outputFiles: { text: string }[] }>
}>

export declare function functionNames(): string[]

export interface LoadGraph {
  /** The entry output and the outputs it imports statically: read by every start. */
  initial: string[]
  /** Every other script: read by the `import()` that needs it, if ever. */
  lazy: string[]
  initialBytes: number
  lazyBytes: number
  /** Source files bundled into the initial outputs, and into the lazy ones. */
  initialInputs: Set<string>
  lazyInputs: Set<string>
}

export declare function loadGraph(metafile: Metafile, entry: string): LoadGraph

export interface BundleOptions {
  sourcemap?: boolean
  nodePaths?: string[]
}

export declare function bundleEntry(
  entry: string,
  out: string,
  options?: BundleOptions,
): Promise<{ metafile: Metafile }>

export interface BundledFunction {
  out: string
  /** Everything in `out`, node_modules included. */
  bytes: number
  bundleBytes: number
  initialBytes: number
  lazyBytes: number
  chunks: number
  /** The native packages copied into `out/node_modules`, with their versions. */
  externals: Record<string, string>
  metafile: Metafile
}

export declare function bundleFunction(name: string, out?: string, options?: BundleOptions): Promise<BundledFunction>
