/** A fieldset of channel checkboxes: which channels a destination receives. */
import { useId } from 'react';
import type { Channel } from '../../api/types.js';

export function ChannelChecks(props: {
  legend: string;
  channels: Channel[];
  chosen: readonly string[];
  error?: string | undefined;
  onChange(channels: string[]): void;
}) {
  const errorId = useId();
  const toggle = (slug: string) =>
    props.onChange(props.chosen.includes(slug) ? props.chosen.filter((c) => c !== slug) : [...props.chosen, slug]);
  return (
    <fieldset
      className={`field${props.error ? ' field--invalid' : ''}`}
      aria-describedby={props.error ? errorId : undefined}
    >
      <legend>{props.legend}</legend>
      {props.channels.length === 0 ? <p className="muted small">No channels yet.</p> : null}
      <div className="checks">
        {props.channels.map((c) => (
          <label key={c.slug} className="check">
            <input type="checkbox" checked={props.chosen.includes(c.slug)} onChange={() => toggle(c.slug)} />
            {c.name}
          </label>
        ))}
      </div>
      {props.error ? (
        <p className="field__error" id={errorId} role="alert">
          {props.error}
        </p>
      ) : props.channels.length > 0 && props.chosen.length === 0 ? (
        <p className="field__hint">None ticked: it receives nothing until one is.</p>
      ) : null}
    </fieldset>
  );
}
