/** Limits shared by the server, the web app and the CLI. Changing one is a contract change. */
export const LIMITS = {
  notesMaxChars: 2000,
  takeProfitsMax: 5,
  symbolMaxChars: 32,
  slugMaxChars: 48,
  passwordMinChars: 10,
  passwordMaxChars: 256,
  /** Largest HTTP body the API accepts; anything larger is answered with 413. */
  bodyMaxBytes: 64 * 1024,
  /** Largest Socket.IO frame a client may send. */
  socketFrameMaxBytes: 16 * 1024,
  /** Live Socket.IO connections one user may hold at once (tabs, devices); more are refused. */
  socketsPerUserMax: 100,
  /** Server-Sent Event streams one user may hold open at once; more are refused with 429. */
  streamsPerUserMax: 20,
  /** Prices are bounded so that ratios of them (R multiples) stay finite and meaningful. */
  priceMin: 1e-12,
  priceMax: 1e12,
  /** An update's price must lie within this factor of the signal's entry. */
  updatePriceFactor: 100,
  /** A signal may be cancelled without a price this soon after it was published (never entered). */
  cancelGraceMs: 10 * 60_000,
  pageSizeDefault: 50,
  pageSizeMax: 500,
  eventsPageMax: 1000,
} as const;
