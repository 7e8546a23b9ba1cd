/** A valid signal body for store-level tests, distinguished by its symbol. */
export function signalData(symbol: string) {
  return {
    symbol,
    market: 'crypto' as const,
    side: 'buy' as const,
    entry: 100,
    stopLoss: 90,
    takeProfits: [110],
  };
}
