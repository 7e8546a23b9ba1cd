/**
 * Optional sound and desktop alerts for new signals. Browsers rightly refuse both without
 * a user gesture, so they are only ever switched on by a click — never on page load.
 */
import { useCallback, useState } from 'react';
import type { SignalView } from '../../../shared/events.js';
import { formatPrice } from '../../components/format.js';

export interface Alerts {
  sound: boolean;
  desktop: boolean;
  desktopBlocked: boolean;
  toggleSound(): void;
  toggleDesktop(): void;
  notify(view: SignalView): void;
}

let audio: AudioContext | null = null;

function chime(): void {
  if (!audio) return;
  const now = audio.currentTime;
  for (const [i, frequency] of [880, 1320].entries()) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, now + i * 0.12);
    gain.gain.exponentialRampToValueAtTime(0.15, now + i * 0.12 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.12 + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start(now + i * 0.12);
    osc.stop(now + i * 0.12 + 0.3);
  }
}

export function useAlerts(): Alerts {
  const [sound, setSound] = useState(false);
  const [desktop, setDesktop] = useState(false);
  const [desktopBlocked, setBlocked] = useState(
    typeof Notification !== 'undefined' && Notification.permission === 'denied',
  );

  const toggleSound = useCallback(() => {
    setSound((on) => {
      if (!on) {
        // Created inside the click, so the browser lets it play.
        audio ??= new AudioContext();
        void audio.resume();
      }
      return !on;
    });
  }, []);

  const toggleDesktop = useCallback(() => {
    if (desktop) return setDesktop(false);
    if (typeof Notification === 'undefined') return setBlocked(true);
    void Notification.requestPermission().then((permission) => {
      setBlocked(permission === 'denied');
      setDesktop(permission === 'granted');
    });
  }, [desktop]);

  const notify = useCallback(
    (view: SignalView) => {
      if (sound) chime();
      if (desktop && typeof Notification !== 'undefined' && Notification.permission === 'granted') {
        const title = `${view.side === 'buy' ? 'Buy' : 'Sell'} ${view.symbol}`;
        // Notification bodies are plain text: nothing here is interpreted as markup.
        new Notification(title, {
          body: `Entry ${formatPrice(view.entry)} · SL ${formatPrice(view.stopLoss)} · ${view.channel}`,
          tag: view.id,
        });
      }
    },
    [sound, desktop],
  );

  return { sound, desktop, desktopBlocked, toggleSound, toggleDesktop, notify };
}
