/**
 * Signed chain heads (`GET /api/chain/head`) and the key that signs them (`GET /api/chain/key`).
 * A subscriber who keeps a signed head can later prove what the channel's history was.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { slugSchema } from '../../../shared/schemas.js';
import { scopeOf } from '../../core/policy.js';
import type { Runtime } from '../../runtime.js';
import { publicKeyInfo } from '../../core/chain-signer.js';
import { authenticate } from '../auth.js';

const headQuery = z.strictObject({ channel: slugSchema.optional() });

export function chainRoutes(runtime: Runtime): FastifyPluginAsyncZod {
  const { accounts } = runtime;

  return async (app) => {
    const { signer } = runtime;
    app.get(
      '/chain/key',
      {
        schema: {
          tags: ['chain'],
          summary: 'The Ed25519 public key that signs chain heads: PEM, raw base64 and fingerprint',
          security: [],
        },
      },
      async () => signer.publicKey,
    );

    app.get(
      '/chain/keys',
      {
        schema: {
          tags: ['chain'],
          summary: 'Every key that ever signed heads, retired ones included, to check heads saved before a rotation',
          security: [],
        },
      },
      async () => ({
        active: signer.publicKey.fingerprint,
        keys: (await runtime.store.signingKeys()).map((k) => ({
          ...publicKeyInfo(k.publicKey),
          createdAt: k.createdAt,
          retiredAt: k.retiredAt,
        })),
      }),
    );

    app.get(
      '/chain/head',
      {
        schema: {
          tags: ['chain'],
          summary: "Signed heads of the caller's channels, signed now where the head moved since",
          querystring: headQuery,
        },
      },
      async (request) => {
        const actor = await authenticate(request, accounts);
        const scope = scopeOf(actor);
        const { channel } = request.query;
        const channels = channel ? (scope === 'all' || scope.includes(channel) ? [channel] : []) : scope;
        const heads = await signer.signMoved(channels);
        return { heads, key: { algorithm: signer.publicKey.algorithm, fingerprint: signer.publicKey.fingerprint } };
      },
    );
  };
}
