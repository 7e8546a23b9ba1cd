/**
 * A read-only value with a Copy button. Where the clipboard is refused (an http:// page that is
 * not localhost, a browser setting), the value is selected instead, ready for Ctrl+C.
 */
import { useId, useRef, useState } from 'react';

export function CopyField(props: { label: string; value: string; multiline?: boolean; testId?: string }) {
  const id = useId();
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const [copied, setCopied] = useState<'copied' | 'selected' | null>(null);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.value);
      setCopied('copied');
    } catch {
      ref.current?.select();
      setCopied('selected');
    }
  };
  const control = {
    id,
    ref,
    readOnly: true,
    value: props.value,
    'data-testid': props.testId,
    onFocus: () => ref.current?.select(),
    spellCheck: false,
  };
  return (
    <div className="field copy-field">
      <label htmlFor={id}>{props.label}</label>
      <div className="copy-field__row">
        {props.multiline ? <textarea {...control} rows={5} /> : <input {...control} />}
        <button type="button" className="button button--small" onClick={() => void copy()}>
          {copied === 'copied' ? 'Copied' : 'Copy'}
        </button>
      </div>
      {copied === 'selected' ? <p className="field__hint">Selected: press Ctrl+C (⌘C) to copy.</p> : null}
    </div>
  );
}
