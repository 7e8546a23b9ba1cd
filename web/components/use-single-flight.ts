/**
 * One send at a time, for a form or a row of buttons: `busy` disables the controls, and
 * `run` refuses a second send while one is in flight — synchronously, since a second click
 * lands before React re-renders the disabled button.
 */
import { useRef, useState } from 'react';

export function useSingleFlight() {
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);

  /** `work`'s result, or undefined without running it if a send is already in flight. */
  const run = async <R>(work: () => Promise<R>): Promise<R | undefined> => {
    if (inFlight.current) return undefined;
    inFlight.current = true;
    setBusy(true);
    try {
      return await work();
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };

  return { busy, run };
}
