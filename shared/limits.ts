/** Limits shared by the server, the web app and the CLI. Changing one is a contract change. */
export const LIMITS = {
  notesMaxChars: 2000,
  takeProfitsMax: 5,
  symbolMaxChars: 32,
  slugMaxChars: 48,
  /** Largest HTTP body the API accepts; anything larger is answered with 413. */
  bodyMaxBytes: 64 * 1024,
  /** Largest Socket.IO frame a client may send. */
  socketFrameMaxBytes: 16 * 1024,
  /** Live Socket.IO connections one user may hold at once (tabs, devices); more are refused. */
  socketsPerUserMax: 100,
  pageSizeDefault: 50,
  pageSizeMax: 500,
  eventsPageMax: 1000,
} as const;
