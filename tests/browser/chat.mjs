// Opens the chat page in the system Chromium, reads its name from the welcome, sends a line, then waits for
// a line from another member. Usage: node chat.mjs URL LINE_TO_SEND LINE_TO_SEE. Prints "name NAME" once
// in the room and "seen" once the line arrived; exits 1 on any failure or after 20 s.
import { chromium } from 'playwright-core';

const [url, toSend, toSee] = process.argv.slice(2);
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
const killer = setTimeout(() => { console.error('timed out'); process.exit(1); }, 20000);
try {
  const page = await browser.newPage();
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
  await page.waitForFunction(() => document.getElementById('me').textContent !== '');
  console.log(`name ${await page.textContent('#me')}`);
  await page.fill('#line', toSend);
  await page.press('#line', 'Enter');
  await page.waitForFunction((text) => document.getElementById('log').textContent.includes(text), toSee);
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  console.log('seen');
} catch (error) {
  console.error(String(error));
  process.exitCode = 1;
} finally {
  clearTimeout(killer);
  await browser.close();
}
