// Opens the chat page in COUNT tabs of the system Chromium (each its own browser context, like separate
// browsers) and drives them on request. Usage: node tabs.mjs URL COUNT (URL http:// or https://).
//
// Once every tab is in the room it prints {"names": [...]}; then it reads one JSON request per line on
// stdin and answers each with one JSON line on stdout: {} or the value asked for, or {"error": ...} (with
// the tab's state) when it failed. It closes the browser and exits when stdin ends.
//
// Requests ({"tab": N, "do": ..., "timeout": ms}):
//   send    {"text"}  fills the input line and presses Enter
//   type    {"text"}  types the text into the input line key by key, without Enter
//   press   {"key"}   presses a key in the input line
//   wait    {"until"}  waits until the page shows what "until" names:
//             {"entry": {"kind", "text", "name"?}}  a visible conversation entry with these classes
//                                                   ("chat", "chat self", "notice", "local"…) and text
//             {"me": NAME}  {"status": REGEX}  {"online": [NAMES]} (in any order)
//   state             {"me", "status", "input", "focused", "entries": [{kind, name, text}], "online",
//                      "foreign" (tags in the conversation other than li and span), "images", "scripts",
//                      "pwned" (typeof window.__pwned), "url" (location.href),
//                      "errors" (page errors, CSP reports, failed loads)}
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);

function reply(value) {
  process.stdout.write(JSON.stringify(value) + '\n');
}

// Runs in the page: whether it shows what `until` names (for an entry, its index plus one).
function holds(until) {
  if (until.me !== undefined) return document.getElementById('me').textContent === until.me;
  if (until.status !== undefined) {
    return new RegExp(until.status).test(document.getElementById('status').textContent);
  }
  if (until.online !== undefined) {
    const shown = [...document.querySelectorAll('#online-list li')].map((item) => item.textContent).sort();
    return JSON.stringify(shown) === JSON.stringify([...until.online].sort());
  }
  const { kind, name, text } = until.entry;
  const entries = [...document.querySelectorAll('#log > li')];
  return 1 + entries.findIndex((entry) => entry.className === `entry ${kind}` &&
      entry.querySelector('.text')?.textContent === text &&
      (name === undefined || entry.querySelector('.name')?.textContent === name));
}

// Runs in the page: what it shows.
function snapshot() {
  const log = document.getElementById('log');
  return {
    me: document.getElementById('me').textContent,
    status: document.getElementById('status').textContent,
    input: document.getElementById('line').value,
    focused: document.activeElement?.id ?? null,
    entries: [...log.children].map((entry) => ({
      kind: entry.className.replace(/^entry /, ''),
      name: entry.querySelector('.name')?.textContent ?? null,
      text: entry.querySelector('.text')?.textContent ?? '',
    })),
    online: [...document.querySelectorAll('#online-list li')].map((item) => item.textContent),
    foreign: [...log.querySelectorAll('*')].map((element) => element.tagName.toLowerCase())
        .filter((tag) => tag !== 'li' && tag !== 'span'),
    images: document.images.length,
    scripts: document.scripts.length,
    pwned: typeof window.__pwned,
    url: location.href,
  };
}

async function open(context) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) errors.push(message.text());
  });
  // The page asks for nothing but its own three files: any other failed load is a bug, except the icon
  // every browser asks for on its own.
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) {
      errors.push(`${response.status()} ${response.url()}`);
    }
  });
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('me').textContent !== '', null, { timeout: 20000 });
  return { page, errors };
}

async function state(tab) {
  return { ...await tab.page.evaluate(snapshot), errors: tab.errors };
}

async function perform(tab, request) {
  const timeout = request.timeout ?? 10000;
  const input = tab.page.locator('#line');
  switch (request.do) {
    case 'send':
      await input.fill(request.text, { timeout });
      await input.press('Enter', { timeout });
      return {};
    case 'type':
      await input.pressSequentially(request.text, { timeout });
      return {};
    case 'press':
      await input.press(request.key, { timeout });
      return {};
    case 'wait': {
      const found = await tab.page.waitForFunction(holds, request.until, { timeout, polling: 50 });
      if (request.until.entry !== undefined) {
        await tab.page.locator('#log > li').nth(await found.jsonValue() - 1).waitFor({ state: 'visible', timeout });
      }
      return {};
    }
    case 'state':
      return state(tab);
    default:
      throw new Error(`unknown request ${JSON.stringify(request)}`);
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // Headless, so no display is needed. Chromium refuses to start its sandbox as root ("Running as root
  // without --no-sandbox is not supported"), and CI runs as root: only there does the test turn it off
  // (playwright-core would pass --no-sandbox everywhere unless chromiumSandbox is true).
  headless: true,
  chromiumSandbox: process.getuid() !== 0,
  args: ['--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
try {
  // Over https (a server with a certificate of a test CA) each context ignores certificate errors rather
  // than trusting the CA: Chromium on Linux takes a locally trusted CA from the NSS database in the user's
  // home (~/.pki/nssdb, filled with certutil from libnss3-tools), which the test would have to install
  // and write outside its temporary directory. Verifying the server's certificate against the CA is the
  // work of tests/e2e/tls_test.py and web_tls_test.py; here the browser loads the page over https and
  // chats over wss.
  const https = url.startsWith('https:');
  const contexts = await Promise.all(
    Array.from({ length: count }, () => browser.newContext({ ignoreHTTPSErrors: https })));
  const tabs = await Promise.all(contexts.map(open));
  reply({ names: await Promise.all(tabs.map((tab) => tab.page.textContent('#me'))) });
  for await (const line of createInterface({ input: process.stdin })) {
    const request = JSON.parse(line);
    const tab = tabs[request.tab];
    try {
      reply(await perform(tab, request));
    } catch (error) {
      reply({ error: String(error), state: await state(tab).catch((why) => String(why)) });
    }
  }
} catch (error) {
  reply({ error: String(error) });
  process.exitCode = 1;
} finally {
  await browser.close();
}
