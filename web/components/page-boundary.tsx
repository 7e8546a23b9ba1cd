/**
 * Pages load on demand; if a page's code cannot be fetched (offline on a page not visited
 * yet, or an old tab after a deploy replaced the files) or a page throws, this shows what
 * happened and a way out instead of an empty window. Key it by path: moving on resets it.
 */
import { Component, type ReactNode } from 'react';

interface State {
  error: Error | null;
}

export class PageBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="page" role="alert">
        <h1>This page could not be loaded</h1>
        <p className="muted">{navigator.onLine ? this.state.error.message : 'You are offline.'}</p>
        <p>
          <button type="button" className="button" onClick={() => window.location.reload()}>
            Reload
          </button>
        </p>
      </div>
    );
  }
}
