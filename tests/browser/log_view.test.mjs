// Tests of the dashboard's log viewer (web/log.js) in headless Chromium,
// without a server: ANSI colours, carriage returns, GitLab sections, text
// split anywhere between chunks, log text never parsed as HTML, a large log.
//
// usage: node log_view.test.mjs
// Exit status: 0 passed, 1 failed, 77 skipped (Chromium or node_modules missing).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, loadChromium, launchBrowser, runTest } from './harness.mjs';

const WEB = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const chromium = await loadChromium();

// Renders chunks in the page; resolves to the lines as
// [{n, text, html, hidden}] once the viewer has finished.
function render(page, chunks) {
  return page.evaluate((chunks) => new Promise((resolve) => {
    const box = document.createElement('div');
    box.className = 'log';
    document.body.replaceChildren(box);
    const view = new SlipwayLog.LogView(box, { lineHref: (n) => `#/projects/1/jobs/2#L${n}` });
    for (const chunk of chunks) view.append(chunk);
    view.finish(() => {
      resolve([...box.querySelectorAll('.line')].map((line) => ({
        n: line.querySelector('.ln').textContent,
        href: line.querySelector('.ln').getAttribute('href'),
        text: line.querySelector('.txt').textContent,
        html: line.querySelector('.txt').innerHTML,
        hidden: getComputedStyle(line).display === 'none',
      })));
      view.destroy();
    });
  }), chunks);
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

await runTest('log view', async () => {
  const browser = await launchBrowser(chromium);
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.setContent('<!doctype html><html><head></head><body></body></html>');
    await page.addStyleTag({ content: fs.readFileSync(path.join(WEB, 'style.css'), 'utf8') });
    await page.addScriptTag({ content: fs.readFileSync(path.join(WEB, 'log.js'), 'utf8') });

    // Colours: the 16 basic ones as classes, 256 and true colour inline, resets.
    let lines = await render(page, [
      '\x1b[31mred\x1b[0m \x1b[1;92mbold bright green\x1b[0m \x1b[44mblue bg\x1b[49m plain\n',
      '\x1b[38;5;208mpalette\x1b[39m \x1b[38;2;1;2;3mtrue\x1b[0m \x1b[48;5;21mbg\x1b[0m\n',
      '\x1b[32;1m$ echo hi\x1b[0;m\n',
    ]);
    check(lines[0].html === '<span class="fg-red">red</span> <span class="fg-bright-green b">bold bright green</span> '
      + '<span class="bg-blue">blue bg</span> plain', `basic colours: ${lines[0].html}`);
    check(lines[1].html === '<span style="color: rgb(255, 135, 0);">palette</span> '
      + '<span style="color: rgb(1, 2, 3);">true</span> <span style="background-color: rgb(0, 0, 255);">bg</span>',
    `256 and true colour: ${lines[1].html}`);
    check(lines[2].html === '<span class="fg-green b">$ echo hi</span>', `runner prompt: ${lines[2].html}`);
    check(same(lines.map((l) => [l.n, l.href]), [['1', '#/projects/1/jobs/2#L1'], ['2', '#/projects/1/jobs/2#L2'], ['3', '#/projects/1/jobs/2#L3']]),
      'numbered lines with links');

    // Log text is text: markup in it is shown, never parsed.
    lines = await render(page, ['<img src=x onerror="window.hacked=1"> & <b>bold?</b>\n']);
    check(lines[0].text === '<img src=x onerror="window.hacked=1"> & <b>bold?</b>', `markup shown as text: ${lines[0].text}`);
    check(await page.evaluate(() => !document.querySelector('.log img, .log b') && !window.hacked), 'no element made from log text');

    // Carriage returns: the last version of a progress line; \r\n ends a line.
    lines = await render(page, ['progress 10%\rprogress 50%\rprogress 100%\n', 'windows\r\n', 'done\r', '\n', 'erased\r\x1b[0K\n']);
    check(same(lines.map((l) => l.text), ['progress 100%', 'windows', 'done', 'erased']), `carriage returns: ${lines.map((l) => l.text)}`);

    // Sections: markers hidden, the header folds its lines, collapsed=true starts folded.
    const sections = '\x1b[0Ksection_start:1700000000:prepare\r\x1b[0KPreparing\n' +
      'inside one\n\x1b[0Ksection_end:1700000065:prepare\r\x1b[0K\n' +
      '\x1b[0Ksection_start:1700000070:script[collapsed=true]\r\x1b[0KScript\n' +
      'inside two\n\x1b[0Ksection_end:1700000071:script\r\x1b[0K\nafter\n';
    lines = await render(page, [sections]);
    check(same(lines.map((l) => l.text), ['Preparing', 'inside one', '', 'Script', 'inside two', '', 'after']), `section text: ${lines.map((l) => l.text)}`);
    check(same(lines.map((l) => l.hidden), [false, false, false, false, true, true, false]), `collapsed=true folds: ${lines.map((l) => l.hidden)}`);
    check(!lines.some((l) => l.text.includes('section_')), 'markers hidden');
    check(await page.evaluate(() => document.querySelector('#L1 .section-duration').textContent) === '1m 5s', 'section duration');

    // Any split of the text between chunks renders the same lines.
    const sample = '\x1b[32;1m$ make\x1b[0;m\nline with \x1b[38;2;10;20;30mtrue colour\x1b[0m\r\n' +
      sections + 'progress 1%\rprogress 99%\n\x1b[1mbold tail without newline';
    const whole = await render(page, [sample]);
    check(whole[whole.length - 1].html === '<span class="b">bold tail without newline</span>', 'the last, unfinished line is shown');
    for (let at = 1; at < sample.length; at++) {
      const split = await render(page, [sample.slice(0, at), sample.slice(at)]);
      check(same(split, whole), `split at ${at}: ${JSON.stringify(split)} != ${JSON.stringify(whole)}`);
    }

    // A large log: every line arrives, in several animation frames.
    const big = Array.from({ length: 50000 }, (_, i) => (i % 10 ? `line ${i + 1}` : `\x1b[32mline ${i + 1}\x1b[0m`)).join('\n') + '\n';
    const count = await page.evaluate((big) => new Promise((resolve) => {
      const box = document.createElement('div');
      box.className = 'log';
      document.body.replaceChildren(box);
      const view = new SlipwayLog.LogView(box, { lineHref: (n) => `#L${n}` });
      let frames = 0;
      const countFrames = () => { frames++; if (!done) requestAnimationFrame(countFrames); };
      let done = false;
      requestAnimationFrame(countFrames);
      for (let i = 0; i < big.length; i += 65536) view.append(big.slice(i, i + 65536));
      view.finish(() => {
        done = true;
        resolve({ lines: box.querySelectorAll('.line').length, last: box.querySelector('#L50000 .txt').textContent, frames });
      });
    }), big);
    check(count.lines === 50000 && count.last === 'line 50000', `50,000 lines: ${JSON.stringify(count)}`);
    check(count.frames > 1, `rendered over several frames: ${count.frames}`);

    check(errors.length === 0, `no errors in the page: ${errors.join('; ')}`);
    console.log(`PASS: log view (${sample.length - 1} splits, 50,000 lines in ${count.frames} frames)`);
  } finally {
    await browser.close();
  }
});
