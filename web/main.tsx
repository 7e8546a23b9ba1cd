import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { startServiceWorker } from './pwa/service-worker.js';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// The app shell for starting offline (the signals themselves come from IndexedDB) and push.
window.addEventListener('load', startServiceWorker);
