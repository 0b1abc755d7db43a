/**
 * Real Chromium for end-to-end tests: Debian's /usr/bin/chromium driven by playwright-core
 * (never a downloaded browser), with a fake camera that plays a Y4M clip of a real photo and a
 * CDP virtual authenticator standing in for the phone's platform authenticator (passkey with
 * user verification). Screenshots go to test/artifacts/ for a human to look at.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { writeY4m, type ClipOptions } from './y4m.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS_DIR = path.resolve(import.meta.dirname, '..', 'artifacts');

/** `false` when Chromium is there; otherwise the reason to skip, outside CI only: in CI
 *  (CI=true) a missing browser is a broken install and fails the test file. */
export function chromiumMissing(): string | false {
  if (existsSync(CHROMIUM)) return false;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing in CI (.ci/run installs Debian's chromium)`);
  return `${CHROMIUM} is not installed (apt-get install chromium)`;
}

/** What getUserMedia finds: a camera filming this photo (a path; see y4m.ts for the clip
 *  options), granted without a prompt; or a camera the user refuses (no fake permission UI,
 *  camera permission denied). */
export type Camera = ({ photo: string } & ClipOptions) | 'denied';

const BASE_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export type BrowserSession = {
  context: BrowserContext;
  page: Page;
  /** Saves a full-page PNG as test/artifacts/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
};

/** Starts Chromium on a fresh, throw-away profile (which also holds the camera clip) with one page open. */
export async function launchBrowser({ camera = 'denied' }: { camera?: Camera } = {}): Promise<BrowserSession> {
  const profile = await mkdtemp(path.join(tmpdir(), 'facegate-chromium-'));
  const cameraArgs =
    camera === 'denied'
      ? ['--use-fake-device-for-media-stream']
      : [
          '--use-fake-ui-for-media-stream',
          '--use-fake-device-for-media-stream',
          `--use-file-for-fake-video-capture=${await writeY4m(await readFile(camera.photo), path.join(profile, 'camera.y4m'), camera)}`,
        ];
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...BASE_ARGS, ...cameraArgs],
    permissions: camera === 'denied' ? [] : ['camera'],
    viewport: { width: 800, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async screenshot(name) {
      await mkdir(ARTIFACTS_DIR, { recursive: true });
      const file = path.join(ARTIFACTS_DIR, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** A passkey as the virtual authenticator holds it (id and user handle in base64, as CDP gives them). */
export type VirtualCredential = { credentialId: string; isResidentCredential: boolean; rpId?: string; userHandle?: string; signCount: number };

/** A passkey with its private key (PKCS#8, base64): the same phone's key carried to another browser. */
export type PasskeyCopy = VirtualCredential & { privateKey: string };

export type VirtualAuthenticator = {
  id: string;
  credentials(): Promise<VirtualCredential[]>;
  /** Every passkey with its private key and counter, to load into another browser's authenticator. */
  exportPasskeys(): Promise<PasskeyCopy[]>;
  /** Puts these passkeys on this authenticator, replacing any with the same id (counter included). */
  importPasskeys(passkeys: PasskeyCopy[]): Promise<void>;
  /** What the authenticator answers to a user-verification request from now on. */
  setUserVerified(verified: boolean): Promise<void>;
};

/** A CTAP2 platform authenticator (internal transport, resident keys, user verification that
 *  succeeds, presence given automatically) attached to the page's browser. */
export async function addVirtualAuthenticator(page: Page): Promise<VirtualAuthenticator> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    id: authenticatorId,
    async credentials() {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      return credentials.map(({ credentialId, isResidentCredential, rpId, userHandle, signCount }) => ({ credentialId, isResidentCredential, rpId, userHandle, signCount }));
    },
    async exportPasskeys() {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      return credentials.map(({ credentialId, isResidentCredential, rpId, userHandle, signCount, privateKey }) => ({ credentialId, isResidentCredential, rpId, userHandle, signCount, privateKey }));
    },
    async importPasskeys(passkeys) {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      for (const passkey of passkeys) {
        if (credentials.some((c) => c.credentialId === passkey.credentialId)) await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: passkey.credentialId });
        await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: passkey });
      }
    },
    async setUserVerified(verified) {
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: verified });
    },
  };
}
