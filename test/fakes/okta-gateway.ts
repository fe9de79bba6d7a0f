import type { AccessGrant, Identity, OktaCall, OktaGateway, OrgInfo, RateLimit } from '../../src/connections/ports.js';
import type { Owner } from '../../src/domain/connection.js';
import { AuthError, CliError, NetworkError } from '../../src/domain/errors.js';
import { secretOf } from '../../src/domain/credential.js';
import { cloneError, type EventLog } from './records.js';

export interface FakeOrg {
  /** What /.well-known/okta-organization says the org's Okta URL is (for a custom domain). */
  oktaUrl?: string;
  /** checkOrg throws this (e.g. not an Okta org, 5xx, network). */
  checkOrgError?: CliError;
  orgId?: string;
}

export interface FakeTokenBehaviour {
  owner?: Partial<Owner>;
  roles?: string[];
  rolesError?: CliError;
  rateLimit?: RateLimit | null;
  /** whoAmI throws this (401, 403, 5xx…). */
  whoAmIError?: Error;
  /** revokeCurrentToken throws this. */
  revokeError?: CliError;
  /** For an OAuth credential: what the token endpoint grants (a Bearer token for the asked scopes by default). */
  grant?: Partial<AccessGrant>;
  /** Runs while users/me is in flight: what another process does meanwhile. */
  duringWhoAmI?: () => void;
}

export interface OktaCallRecord {
  op: 'checkOrg' | 'whoAmI' | 'roles' | 'revokeCurrentToken' | 'accessToken';
  orgUrl: string;
  token?: string;
  ok: boolean;
}

export const DEFAULT_OWNER = { id: '00u1abcdefGHIJKLmn0x7', login: 'ada@acme.com', status: 'ACTIVE' };

/** 401 as the real adapter reports it. */
export function auth401(orgUrl = 'https://acme.okta.com'): AuthError {
  return new AuthError('Okta rejected the token (401 E0000011 Invalid token provided)', {
    httpStatus: 401,
    oktaErrorCode: 'E0000011',
    oktaErrorId: 'oaeFakeErrorId123',
    hint: `the token was revoked, expired after 30 days unused, or its creator was deactivated; create a new one at ${orgUrl.replace('.okta.com', '-admin.okta.com')}/admin/access/api/tokens`,
  });
}

/**
 * An OktaGateway over registered orgs and tokens. An unregistered org fails DNS (exit 6); a registered org with an
 * unregistered token answers 401 (exit 4). Every call is recorded in order, with the token it carried.
 */
export class FakeOktaGateway implements OktaGateway {
  readonly calls: OktaCallRecord[] = [];
  private readonly orgs = new Map<string, FakeOrg>();
  private readonly tokens = new Map<string, FakeTokenBehaviour>();
  /** Milliseconds each call waits for, per org (to make some tests finish before others). */
  readonly delays = new Map<string, number>();

  /** Calls under way now, and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** When set, loading the SDK fails with it. */
  readyError: Error | undefined;
  readyCalls = 0;

  constructor(private readonly log: EventLog) {}

  async ready(): Promise<void> {
    this.readyCalls += 1;
    this.log.push('okta.ready');
    await Promise.resolve();
    if (this.readyError) throw this.readyError;
  }

  org(orgUrl: string, behaviour: FakeOrg = {}): this {
    this.orgs.set(orgUrl, behaviour);
    return this;
  }

  /** A working token at an org (the org is registered too, if it was not). */
  token(orgUrl: string, token: string, behaviour: FakeTokenBehaviour = {}): this {
    if (!this.orgs.has(orgUrl)) this.orgs.set(orgUrl, {});
    this.tokens.set(`${orgUrl} ${token}`, behaviour);
    return this;
  }

  /** Calls that carried a token with no successful checkOrg of the same org before them. */
  tokenSentBeforeOrgCheck(): OktaCallRecord[] {
    const checked = new Set<string>();
    const violations: OktaCallRecord[] = [];
    for (const call of this.calls) {
      if (call.op === 'checkOrg') {
        if (call.ok) checked.add(call.orgUrl);
      } else if (!checked.has(call.orgUrl)) {
        violations.push(call);
      }
    }
    return violations;
  }

  tokensSent(): string[] {
    return this.calls.flatMap((call) => (call.token === undefined ? [] : [call.token]));
  }

  private async enter(op: OktaCallRecord['op'], orgUrl: string, token?: string): Promise<OktaCallRecord> {
    const call: OktaCallRecord = token === undefined ? { op, orgUrl, ok: false } : { op, orgUrl, token, ok: false };
    this.calls.push(call);
    this.log.push(`okta.${op}`);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const delay = this.delays.get(orgUrl) ?? 0;
      await (delay > 0 ? new Promise((resolve) => setTimeout(resolve, delay)) : Promise.resolve());
    } finally {
      this.inFlight -= 1;
    }
    return call;
  }

  private behaviourOf(call: OktaCall): FakeTokenBehaviour {
    const behaviour = this.tokens.get(`${call.orgUrl} ${secretOf(call.credential)}`);
    if (!behaviour) throw auth401(call.orgUrl);
    return behaviour;
  }

  async checkOrg(orgUrl: string): Promise<OrgInfo> {
    const call = await this.enter('checkOrg', orgUrl);
    const org = this.orgs.get(orgUrl);
    if (!org) throw new NetworkError(`cannot resolve ${new URL(orgUrl).host} (DNS)`, { hint: 'check the spelling of the API address and your DNS' });
    if (org.checkOrgError) throw cloneError(org.checkOrgError);
    call.ok = true;
    return { id: org.orgId ?? '00o1fakeorgid0000x7', oktaUrl: org.oktaUrl ?? null };
  }

  async whoAmI(request: OktaCall): Promise<Identity> {
    const call = await this.enter('whoAmI', request.orgUrl, secretOf(request.credential));
    const behaviour = this.behaviourOf(request);
    behaviour.duringWhoAmI?.();
    if (behaviour.whoAmIError) throw behaviour.whoAmIError instanceof CliError ? cloneError(behaviour.whoAmIError) : behaviour.whoAmIError;
    call.ok = true;
    if (request.credential.kind === 'oauth') {
      // As the real adapter: the owner is the app, and the test reports what the token endpoint granted.
      const { clientId, scopes } = request.credential;
      return { owner: { id: clientId, login: clientId, status: null }, rateLimit: null, oauth: { scopes, expiresInS: 3600, isDPoP: false, checked: 'GET /api/v1/users?limit=1' } };
    }
    const owner = { ...DEFAULT_OWNER, ...behaviour.owner };
    return {
      owner: { id: owner.id, login: owner.login, status: owner.status },
      rateLimit: behaviour.rateLimit === undefined ? { limit: 600, remaining: 599, resetAt: null } : behaviour.rateLimit,
    };
  }

  async roles(request: OktaCall, userId: string): Promise<string[]> {
    const call = await this.enter('roles', request.orgUrl, secretOf(request.credential));
    const behaviour = this.behaviourOf(request);
    if (behaviour.rolesError) throw cloneError(behaviour.rolesError);
    if (userId === '') throw new Error('FakeOktaGateway: roles asked without a user id');
    call.ok = true;
    return [...(behaviour.roles ?? ['Super Administrator'])];
  }

  async accessToken(request: OktaCall): Promise<AccessGrant> {
    const call = await this.enter('accessToken', request.orgUrl, secretOf(request.credential));
    const behaviour = this.behaviourOf(request);
    if (request.credential.kind !== 'oauth') throw new Error('FakeOktaGateway: an access token asked for an API-token connection');
    call.ok = true;
    return { accessToken: 'eyJfake.access.token', tokenType: 'Bearer', expiresInS: 3600, scopes: request.credential.scopes, isDPoP: false, ...behaviour.grant };
  }

  async revokeCurrentToken(request: OktaCall): Promise<void> {
    const call = await this.enter('revokeCurrentToken', request.orgUrl, secretOf(request.credential));
    const behaviour = this.behaviourOf(request);
    if (behaviour.revokeError) throw cloneError(behaviour.revokeError);
    call.ok = true;
    this.tokens.delete(`${request.orgUrl} ${secretOf(request.credential)}`);
  }
}

