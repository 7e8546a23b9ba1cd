import type { ReactNode } from 'react';
import type { Notice } from '../../state/session.js';

/** The centred card the sign-in and setup pages share. */
export function AuthLayout(props: { title: string; intro: string; notice?: Notice | null; children: ReactNode }) {
  return (
    <main className="auth">
      <div className="auth__card">
        <div className="brand brand--large">
          <span className="brand__mark" aria-hidden="true">
            ◆
          </span>
          signal-desk
        </div>
        <h1>{props.title}</h1>
        <p className="muted">{props.intro}</p>
        {props.notice ? (
          <p className={`notice notice--${props.notice.tone}`} role="status">
            {props.notice.text}
          </p>
        ) : null}
        {props.children}
      </div>
    </main>
  );
}
