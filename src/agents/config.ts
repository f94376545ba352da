/**
 * Where the agents listen, how they find each other and which identity files
 * they use. Defaults follow docs/agents.md and suit `falconer up` on one
 * machine; in Kubernetes the Helm chart sets the peer URLs and TLS paths.
 */
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);

function agentEndpoint(a2aPort: number, opsPort: number) {
  return z
    .object({
      /** A2A over HTTPS with mTLS. */
      a2aPort: port.default(a2aPort),
      /** Plain HTTP: /metrics, /healthz, /readyz only. */
      opsPort: port.default(opsPort),
      /** How peers reach this agent (the server name must match the certificate: localhost locally). */
      url: z.url().default(`https://localhost:${a2aPort}`),
    })
    .prefault({});
}

export const AgentsConfigSchema = z
  .object({
    trustDomain: z.string().min(1).max(255).default('falconer.local'),
    namespace: z.string().min(1).max(63).default('default'),
    /** Bind address of the A2A and ops servers. */
    host: z.string().min(1).default('127.0.0.1'),
    /**
     * Identity files. Empty: the dev PKI of `falconer up` under `<dataDir>/pki`
     * (`<agent>.crt`, `<agent>.key`, `ca.crt`). In Kubernetes: cert-manager's
     * Secret mounted as `tls.crt`, `tls.key`, `ca.crt`.
     */
    tls: z
      .object({
        certFile: z.string().min(1).nullable().default(null),
        keyFile: z.string().min(1).nullable().default(null),
        caFile: z.string().min(1).nullable().default(null),
      })
      .prefault({}),
    /** Per-call timeout of A2A requests between agents. */
    callTimeoutMs: z.number().int().positive().default(10_000),
    detect: agentEndpoint(7401, 7501),
    coordinator: agentEndpoint(7402, 7502),
    analyse: agentEndpoint(7403, 7503),
    remediate: agentEndpoint(7404, 7504),
    notify: agentEndpoint(7405, 7505),
  })
  .prefault({});

export type AgentsConfig = z.infer<typeof AgentsConfigSchema>;
