/**
 * A spoken story for the speech-to-text fixtures: about three minutes with espeak-ng, each
 * sentence a different length (so the pauses between them tell where a piece of audio is) and
 * without commas (so each sentence is one stretch of sound). The last one is the moment the
 * end-to-end test asks about: it falls in the last segment.
 */
export const HARBOUR_STORY: readonly string[] = [
  'The harbour wakes up long before the sun rises over the hills.',
  'Fishing boats leave in a line.',
  'Each captain checks the weather report twice before casting off the ropes.',
  'Gulls follow the boats.',
  'The market opens at six and the first buyers are the restaurant cooks from the old town.',
  'Prices change by the hour.',
  'A good catch of mackerel can pay for a week of diesel.',
  'Nets are mended by hand on the quay.',
  'The older fishermen say that a torn net tells you where the rocks are better than any chart.',
  'Young crews learn the knots first.',
  'In winter the sea turns grey and the swell comes in from the north without warning.',
  'Ice forms on the railings.',
  'The coast guard keeps a boat ready at the end of the pier all through the night.',
  'Radios crackle in every cabin.',
  'When fog rolls in the harbour master rings a bell every thirty seconds so that boats can find the entrance.',
  'Nobody enjoys the fog.',
  'The fish auction is loud and fast and the numbers are shouted faster than a newcomer can follow.',
  'Crates are stacked six high.',
  'By noon the quay is washed down with sea water and the smell of fish fades away.',
  'Cats sleep on the warm stones.',
  'In the afternoon the repair yard hauls a trawler out of the water to scrape the hull.',
  'Paint dries slowly in the salt air.',
  'The lighthouse keeper polishes the great brass lens every evening before the lamp is lit.',
  'Its beam reaches twenty miles out to sea.',
  'Ships passing in the dark count the flashes to know which lighthouse they are looking at.',
  'This one flashes three times.',
  'At the end of the season the whole village gathers on the quay for the blessing of the boats.',
]
