export { FfmpegError, ffmpegPath, runFfmpeg, type RunFfmpegOptions } from './ffmpeg/index.ts'
export { joinSegmentTranscripts, type SegmentTranscript, type TimedText } from './join/index.ts'
export {
  encodeSegments,
  planSegments,
  toSpeechWav,
  type EncodedSegment,
  type EncodeSegmentsOptions,
  type PlanSegmentsOptions,
  type SegmentPlan,
} from './segments/index.ts'
export { detectSilences, parseSilences, type DetectSilencesOptions, type Silence } from './silences/index.ts'
