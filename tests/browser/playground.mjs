// Drives the playground (served by the api worker at /) in Debian's Chromium with playwright-core,
// as a person would, and prints what they saw as JSON: tests/e2e/test_playground.py asserts on it.
//
//   node playground.mjs <base url> <scenario> '<json options>'
//   scenarios: chat, tool, events, wrong-key, keyboard, graphiql, buttons; options: {key, screenshot, chromium, text, model}
import { chromium } from 'playwright-core';

const [baseUrl, scenario, optionsJson = '{}'] = process.argv.slice(2);
const options = JSON.parse(optionsJson);
const TIMEOUT = 30_000;

// Flags for a machine without a display or outside network (no Google services to reach).
const browser = await chromium.launch({
  executablePath: options.chromium ?? '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const consoleErrors = [];
page.on('pageerror', (error) => consoleErrors.push(String(error)));
page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
page.setDefaultTimeout(TIMEOUT);
// Everything a page loads must come from the server it was opened from: it works offline.
const elsewhere = [];
page.on('request', (request) => {
  const url = new URL(request.url());
  if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== new URL(baseUrl).origin) elsewhere.push(request.url());
});

const text = (selector) => page.locator(selector).innerText();
const total = async (chart) => Number(await page.locator(`#${chart}`).getAttribute('data-total'));

async function enterKey(key, { keyboard = false } = {}) {
  if (keyboard) {
    await page.keyboard.type(key); // the key field has the focus when the page opens
    await page.keyboard.press('Enter');
  } else {
    await page.fill('#key', key);
    await page.click('#key-form button[type=submit]');
  }
}

async function keyAccepted() {
  await page.waitForFunction(() => document.querySelector('#key-state').textContent.startsWith('Using key'));
  await page.waitForFunction(() => document.querySelector('#model').options.length > 0);
  await page.waitForFunction(() => document.querySelector('#metrics-state').textContent.startsWith('Updated'));
}

// Counts how often the answer's text changed while it streamed.
async function watchAnswer() {
  await page.evaluate(() => {
    window.answerUpdates = 0;
    new MutationObserver(() => { window.answerUpdates += 1; })
      .observe(document.querySelector('#messages'), { childList: true, subtree: true, characterData: true });
  });
}

async function answered() {
  await page.waitForFunction(() => {
    const last = [...document.querySelectorAll('#messages li.assistant')].at(-1);
    return (last && !last.hasAttribute('aria-busy') && last.textContent) || !document.querySelector('#alert').hidden;
  });
  const answers = await page.locator('#messages li.assistant').allInnerTexts();
  return { answer: answers.at(-1) ?? null, updates: await page.evaluate(() => window.answerUpdates), meta: await text('#answer-meta'),
    alert: (await page.locator('#alert').isVisible()) ? await text('#alert') : null };
}

// The charts whose axis labels are cut at the canvas's left or right edge: labels that fit leave
// the first and last columns of pixels empty (uPlot draws on a transparent canvas).
async function cutLabels() {
  return page.evaluate(() => [...document.querySelectorAll('figure')].filter((figure) => {
    const canvas = figure.querySelector('canvas');
    const context = canvas.getContext('2d');
    return [0, canvas.width - 2].some((x) => context.getImageData(x, 0, 2, canvas.height).data.some((value, i) => i % 4 === 3 && value > 0));
  }).map((figure) => figure.id));
}

const scenarios = {
  async chat() {
    await page.goto(baseUrl);
    await enterKey(options.key);
    await keyAccepted();
    const usageBefore = await text('#key-state');
    await watchAnswer();
    await page.fill('#prompt', options.text ?? 'Hello from the browser');
    await page.click('#send');
    const result = await answered();
    // The answer's usage lands in the charts and the key's line once recorded (the page looks again shortly after).
    await page.waitForFunction(() => Number(document.querySelector('#chart-tokens').dataset.total) > 0);
    await page.waitForFunction((was) => document.querySelector('#key-state').textContent !== was, usageBefore);
    if (options.screenshot) await page.screenshot({ path: options.screenshot, fullPage: true });
    return { ...result, cutLabels: await cutLabels(), tokens: await total('chart-tokens'), cost: await text('#chart-cost .total'), usageBefore, usageAfter: await text('#key-state'), stored: await page.evaluate(() => sessionStorage.getItem('inference-ui-key') !== null),
      local: await page.evaluate(() => localStorage.length) };
  },

  // The page's own tool offered, to a model that calls it: the page runs it and asks again.
  async tool() {
    await page.goto(baseUrl);
    await enterKey(options.key);
    await keyAccepted();
    await page.selectOption('#model', options.model);
    await page.check('#offer-tool');
    await page.fill('#prompt', options.text);
    await page.click('#send');
    const result = await answered();
    if (options.screenshot) await page.screenshot({ path: options.screenshot, fullPage: true });
    const said = await page.evaluate(() => [...[...document.querySelectorAll('#messages li.assistant')].at(-1).childNodes]
      .filter((node) => node.nodeType === Node.TEXT_NODE).map((node) => node.textContent).join(''));
    return { ...result, said, tools: await page.locator('#messages li.assistant code.tool').allInnerTexts() };
  },

  async events() {
    await page.goto(baseUrl);
    await enterKey(options.key);
    await keyAccepted();
    const before = await total('chart-events');
    await page.click('#send-events');
    // What the chart shows the moment the page says the events were sent, before any refresh.
    const atOnce = await page.waitForFunction(() => document.querySelector('#metrics-state').textContent.includes('Sent 10 events')
      && { total: Number(document.querySelector('#chart-events').dataset.total) }).then(async (handle) => (await handle.jsonValue()).total);
    await page.waitForFunction((was) => Number(document.querySelector('#chart-events').dataset.total) > was, before);
    const after = await total('chart-events');
    // The next refresh, once the events are indexed, keeps both the count and the note.
    const updated = await text('#metrics-state');
    await page.waitForFunction((was) => document.querySelector('#metrics-state').textContent !== was, updated, { timeout: 15_000 });
    if (options.screenshot) await page.screenshot({ path: options.screenshot, fullPage: true });
    return { before, atOnce, after, afterRefresh: await total('chart-events'), state: await text('#metrics-state'),
      caption: await text('#chart-events .total'), canvases: await page.locator('#chart-events canvas').count() };
  },

  async 'wrong-key'() {
    await page.goto(baseUrl);
    await enterKey(options.key);
    await page.locator('#alert').waitFor({ state: 'visible' });
    return { alert: await text('#alert'), sendDisabled: await page.locator('#send').isDisabled(),
      stored: await page.evaluate(() => sessionStorage.getItem('inference-ui-key')) };
  },

  async keyboard() {
    await page.goto(baseUrl);
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
    const path = [await focused()];
    await enterKey(options.key, { keyboard: true });
    await keyAccepted();
    path.push(await focused());
    await watchAnswer();
    await page.keyboard.type('Typed without a mouse');
    await page.keyboard.press('Enter');
    const chat = await answered();
    // On to the events button by Tab alone.
    let presses = 0;
    while ((await focused()) !== 'send-events' && presses < 20) {
      await page.keyboard.press('Tab');
      presses += 1;
    }
    path.push(await focused());
    const before = await total('chart-events');
    await page.keyboard.press('Enter');
    await page.waitForFunction((was) => Number(document.querySelector('#chart-events').dataset.total) > was, before);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    return { path, chat, presses, eventsBefore: before, eventsAfter: await total('chart-events'), outline };
  },

  // Every button's label against its background, enabled and disabled (each state styled as the page styles it).
  async buttons() {
    await page.goto(baseUrl);
    await page.waitForFunction(() => document.querySelector('#stop').disabled);
    const seen = await page.evaluate(() => {
      const channels = (color) => color.match(/[\d.]+/g).map(Number);
      const luminance = (color) => {
        const [r, g, b] = channels(color).slice(0, 3).map((c) => c / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const background = (element) => {
        for (let e = element; e; e = e.parentElement) {
          const color = getComputedStyle(e).backgroundColor;
          if (channels(color)[3] !== 0) return color;
        }
        return 'rgb(255, 255, 255)';
      };
      const contrast = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((m, n) => n - m); return (x + 0.05) / (y + 0.05); };
      const seenButtons = [];
      for (const button of document.querySelectorAll('button')) {
        const was = button.disabled;
        for (const disabled of [false, true]) {
          button.disabled = disabled;
          seenButtons.push({ id: button.id || button.textContent, disabled, label: button.innerText.trim(),
            contrast: Math.round(contrast(getComputedStyle(button).color, background(button)) * 100) / 100 });
        }
        button.disabled = was;
      }
      return seenButtons;
    });
    if (options.screenshot) await page.screenshot({ path: options.screenshot });
    return { buttons: seen };
  },

  // The key's own policy and what is left of its budget, under the key's line.
  async policy() {
    await page.goto(baseUrl);
    await enterKey(options.key);
    await keyAccepted();
    await page.waitForFunction(() => !document.querySelector('#key-policy').hidden);
    if (options.screenshot) await page.screenshot({ path: options.screenshot });
    return { policy: await text('#key-policy') };
  },

  // GraphiQL, opened from the playground's link once the key is in: it runs a query with that key.
  async graphiql() {
    await page.goto(baseUrl);
    await enterKey(options.key);
    await keyAccepted();
    await page.click('#graphiql-link');
    await page.locator('.graphiql-query-editor .monaco-editor').waitFor();
    const address = new URL(page.url()).pathname;
    // The query editor is Monaco's: its text is set through Monaco's own model, as typing would.
    await page.waitForFunction(() => globalThis.__MONACO?.editor.getModels().some((m) => m.getLanguageId() === 'graphql'));
    await page.evaluate((query) => globalThis.__MONACO.editor.getModels().find((m) => m.getLanguageId() === 'graphql').setValue(query),
      '{ usage { tier } models { id } }');
    await page.click('.graphiql-execute-button');
    await page.waitForFunction(() => document.querySelector('.graphiql-response')?.innerText.includes('"tier"'));
    const response = await page.evaluate(() => globalThis.__MONACO.editor.getModels()
      .find((m) => m.getLanguageId() === 'json' && m.getValue().includes('"data"')).getValue());
    if (options.screenshot) await page.screenshot({ path: options.screenshot });
    // Monaco's editors check the query in web workers (started from the bundle's own files, as the
    // CSP allows), the GraphQL one when its language service is first needed.
    const isGraphQLWorker = (worker) => worker.url().endsWith('/graphql.worker.js');
    if (!page.workers().some(isGraphQLWorker)) await page.waitForEvent('worker', { predicate: isGraphQLWorker });
    const workers = page.workers().map((worker) => new URL(worker.url()).pathname).sort();
    return { address, response: JSON.parse(response), workers, headersShown: await page.evaluate(() => document.body.innerText.includes('iui_')) };
  },
};

let result;
try {
  result = await scenarios[scenario]();
} catch (error) {
  result = { failed: String(error?.message ?? error) };
  if (options.screenshot) await page.screenshot({ path: options.screenshot.replace(/\.png$/, '-failed.png'), fullPage: true }).catch(() => {});
}
await browser.close();
console.log(JSON.stringify({ ...result, consoleErrors, elsewhere }));
