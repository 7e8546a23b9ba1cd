/**
 * A real nginx (the Debian package) in front of signal-desk nodes, as docs/OPERATIONS.md
 * describes: WebSocket upgrade passed through, and `hash $remote_addr` so the long-polling
 * fallback (several HTTP requests per session) always reaches the same node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../../helpers/databases.js';

export const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The load-balancer part of the config; `prefix` holds the temp files of a test instance. */
export function nginxConfig(options: { listen: number; upstreams: readonly string[]; prefix: string }): string {
  const { listen, upstreams, prefix } = options;
  return `
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;

  map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
  }

  upstream signal_desk {
    # Sticky by client address: only the long-polling fallback needs it.
    hash $remote_addr consistent;
${upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=2s;`).join('\n')}
  }

  server {
    listen 127.0.0.1:${listen};

    location / {
      proxy_pass http://signal_desk;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 1h;
      proxy_buffering off;
    }
  }
}
`;
}

export interface Nginx {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Runs nginx in the foreground as a child process on a free port. */
export async function startNginx(upstreams: readonly string[]): Promise<Nginx> {
  const dir = tempDir('signal-desk-nginx-');
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir.path, sub), { mode: 0o777 });
  const port = await freePort();
  const conf = join(dir.path, 'nginx.conf');
  writeFileSync(conf, nginxConfig({ listen: port, upstreams, prefix: dir.path }));
  const child: ChildProcess = spawn(NGINX, ['-p', dir.path, '-c', conf, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    try {
      await fetch(`http://127.0.0.1:${port}/healthz`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGQUIT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      dir.remove();
    },
  };
}
