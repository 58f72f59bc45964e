// Real-browser checks of ketadir's patient pages, run by tests/browser.rs:
//
//   node tests/browser/e2e.mjs <base_url> <screenshot_dir>
//
// Drives Debian's Chromium (/usr/bin/chromium) with playwright-core and runs
// axe-core (WCAG 2.0/2.1/2.2 A and AA rules) on every page it visits. The
// server must serve the bundled data/providers.csv. Prints one line per
// passed step; stops with a non-zero exit and a message at the first
// failed check.
//
// After the checks a–k come three patients' walks, each in English and in
// Spanish (lang=es), with a screenshot per step (walk<n>-<lang>-<step>.png):
// 1. a phone in Denver searching fibromyalgia, a filter, a profile, the
//    Call button; 2. a desktop visitor near Bozeman, MT; 3. keyboard only,
//    without JavaScript: Tab to the form, submit, reach a result, open it.

import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const CHROMIUM = process.env.KETADIR_CHROMIUM || '/usr/bin/chromium';
const WATCHDOG_MS = 270_000;
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const SAFETY_WORDS = ['pregnan', 'kidney', 'liver', 'seizure', 'head', 'medical history'];

const [baseArg, shotDir] = process.argv.slice(2);
if (!baseArg || !shotDir) {
  console.error('usage: node tests/browser/e2e.mjs <base_url> <screenshot_dir>');
  process.exit(2);
}
const base = new URL(baseArg);
const origin = base.origin;
mkdirSync(shotDir, { recursive: true });
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

class CheckFailed extends Error {}

function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

const started = Date.now();
let browser;
let currentStep = '(start)';
// Problems seen by page listeners (CSP reports, page errors, third-party
// requests); checked after every step.
const problems = [];

function seconds() {
  return ((Date.now() - started) / 1000).toFixed(1);
}

async function fail(message) {
  console.error(`FAIL [${currentStep}] ${message}`);
  console.error(`browser test failed after ${seconds()} s`);
  try {
    await browser?.close();
  } catch {
    // Already gone.
  }
  process.exit(1);
}

setTimeout(() => {
  fail(`the browser test did not finish within ${WATCHDOG_MS / 1000} s`);
}, WATCHDOG_MS).unref();

async function step(name, body) {
  currentStep = name;
  const t0 = Date.now();
  try {
    const detail = await body();
    if (problems.length) {
      throw new CheckFailed(problems.splice(0).join('\n  '));
    }
    console.log(`ok   ${name}${detail ? ` — ${detail}` : ''} (${Date.now() - t0} ms)`);
  } catch (error) {
    const message = error instanceof CheckFailed ? error.message : (error?.stack || String(error));
    await fail(message);
  }
}

const url = (path) => new URL(path, base).toString();

// ---------------------------------------------------------------------------
// Pages and their listeners.

/** A new page whose console, page errors and requests are watched. */
async function watchedPage(context, { watchCsp = true } = {}) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.setDefaultNavigationTimeout(20_000);
  page.on('console', (msg) => {
    const text = msg.text();
    if (watchCsp && /Content[- ]Security[- ]Policy/i.test(text)) {
      problems.push(`CSP violation on ${page.url()}: [console.${msg.type()}] ${text}`);
    }
  });
  page.on('pageerror', (error) => {
    problems.push(`uncaught page error on ${page.url()}: ${error.message}`);
  });
  page.on('request', (request) => {
    const target = request.url();
    if (/^(data|blob|about):/.test(target)) return;
    let targetOrigin;
    try {
      targetOrigin = new URL(target).origin;
    } catch {
      targetOrigin = target;
    }
    if (targetOrigin !== origin) {
      problems.push(`third-party request from ${page.url()}: ${request.method()} ${target}`);
    }
  });
  return page;
}

async function newContext(options) {
  return browser.newContext({ ...options });
}

// ---------------------------------------------------------------------------
// Helpers on pages.

/** Runs axe on the page and fails with every violation. */
async function axe(page, label) {
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!loaded) await page.evaluate(axeSource);
  const results = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }),
    AXE_TAGS,
  );
  if (results.violations.length) {
    const lines = results.violations.map((v) => {
      const nodes = v.nodes.slice(0, 3).map(
        (n) => `      ${JSON.stringify(n.target)} ${n.html.replace(/\s+/g, ' ').slice(0, 200)}`,
      );
      const more = v.nodes.length > 3 ? [`      … and ${v.nodes.length - 3} more`] : [];
      return [`  ${v.id} (${v.impact}): ${v.help} [${v.nodes.length} node(s)] ${v.helpUrl}`, ...nodes, ...more].join('\n');
    });
    throw new CheckFailed(`axe on ${label} (${page.url()}): ${results.violations.length} violation(s)\n${lines.join('\n')}`);
  }
  const review = results.incomplete.map((r) => `${r.id}×${r.nodes.length}`).join(', ');
  return `axe: 0 violations, ${results.passes.length} rules passed, ${results.incomplete.length} to review${review ? ` (${review})` : ''}`;
}

async function screenshot(page, name) {
  await page.screenshot({ path: join(shotDir, name), fullPage: true });
}

/** Normalised text of the first match, or null. */
async function textOf(page, selector) {
  const locator = page.locator(selector).first();
  if ((await locator.count()) === 0) return null;
  return ((await locator.textContent()) || '').replace(/\s+/g, ' ').trim();
}

/** The number at the start of the results heading ("64 providers …"). */
async function resultTotal(page) {
  const h1 = await textOf(page, 'h1');
  check(h1 !== null, `no h1 on ${page.url()}`);
  const match = h1.match(/^\s*([\d,]+)\s/) || h1.match(/([\d,]+)\s+provider/i);
  check(match, `the h1 "${h1}" does not start with a number of providers`);
  return { h1, total: Number(match[1].replace(/,/g, '')) };
}

/** The hrefs of the result cards' name links. */
async function cardLinks(page) {
  return page.locator('ol.results > li h2 a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
}

/** The accessible name a form control gets from its label(s) or ARIA. */
async function labelOf(page, selector) {
  const locator = page.locator(selector).first();
  check((await locator.count()) > 0, `no ${selector} on ${page.url()}`);
  return locator.evaluate((el) => {
    const parts = [];
    if (el.getAttribute('aria-label')) parts.push(el.getAttribute('aria-label'));
    for (const id of (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean)) {
      parts.push(document.getElementById(id)?.textContent || '');
    }
    for (const label of el.labels || []) parts.push(label.textContent || '');
    return parts.join(' ').replace(/\s+/g, ' ').trim();
  });
}

/** Opens the folded search form of a results page, as a person would. */
async function openSearchFold(page) {
  const fold = page.locator('details.search-fold').first();
  if ((await fold.count()) === 0) return;
  if (!(await fold.evaluate((d) => d.open))) {
    await fold.locator('summary').first().click();
    check(await fold.evaluate((d) => d.open), 'the folded search form does not open from its summary');
  }
}

/** Submits the search form and waits for the results page. */
async function submitSearch(page) {
  const button = page.locator('#search button[type=submit]').first();
  check((await button.count()) > 0, 'no #search button[type=submit]');
  await Promise.all([page.waitForURL((u) => u.pathname === '/' && u.search.length > 1), button.click()]);
  await page.waitForLoadState('load');
}

async function searchChicago(page) {
  const near = page.locator('#search input[name=near]').first();
  check((await near.count()) > 0, 'no #search input[name=near]');
  await near.fill('Chicago, IL');
  await submitSearch(page);
  const current = new URL(page.url());
  check(current.pathname === '/', `results are at ${page.url()}, expected /?…`);
  check(
    (current.searchParams.get('near') || '').startsWith('Chicago'),
    `the results URL ${page.url()} has no near=Chicago…`,
  );
  const { h1, total } = await resultTotal(page);
  check(/within 25 miles of Chicago/.test(h1), `the h1 "${h1}" does not say "within 25 miles of Chicago"`);
  const cards = await page.locator('ol.results > li').count();
  check(cards >= 20, `${cards} result cards (ol.results > li), expected at least 20 (h1: "${h1}")`);
  const links = await cardLinks(page);
  check(
    links.length === cards && links.every((href) => href && href.startsWith('/providers/')),
    `every card needs an h2 a[href^="/providers/"]; got ${JSON.stringify(links.slice(0, 5))}… for ${cards} cards`,
  );
  return { h1, total, cards, links };
}

async function goto(page, path, expectedStatus = 200) {
  const response = await page.goto(url(path));
  check(response, `no response for ${path}`);
  check(
    response.status() === expectedStatus,
    `GET ${path} answered ${response.status()}, expected ${expectedStatus}`,
  );
  const type = response.headers()['content-type'] || '';
  check(type.startsWith('text/html'), `GET ${path} is ${type || 'untyped'}, expected text/html`);
  return response;
}

async function noHorizontalScroll(page, label, width = 360) {
  const { scrollWidth, clientWidth, widest } = await page.evaluate(() => {
    const root = document.documentElement;
    // The element sticking out furthest to the right, to name in a failure.
    let widest = null;
    let right = root.clientWidth;
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > right + 0.5) {
        right = r.right;
        widest = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''} (right edge ${Math.round(r.right)} px)`;
      }
    }
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, widest };
  });
  check(
    scrollWidth <= width,
    `${label} scrolls horizontally at ${width} px: scrollWidth ${scrollWidth} (clientWidth ${clientWidth}); widest: ${widest}`,
  );
  return `scrollWidth ${scrollWidth}`;
}

async function checkProfile(page, expectedName) {
  const current = new URL(page.url());
  check(/^\/providers\/[^/]+$/.test(current.pathname), `the profile is at ${page.url()}, expected /providers/<id>`);
  const h1 = await textOf(page, 'h1');
  check(h1 !== null, 'the profile has no h1');
  check(h1 === expectedName, `the profile h1 "${h1}" is not the card's name "${expectedName}"`);
  const safety = await textOf(page, 'section.safety');
  check(safety !== null, 'the profile has no section.safety');
  const lower = safety.toLowerCase();
  const absent = SAFETY_WORDS.filter((word) => !lower.includes(word));
  check(absent.length === 0, `section.safety does not mention ${absent.map((w) => `"${w}"`).join(', ')}: "${safety.slice(0, 300)}"`);
  const osm = await page.locator('a[href^="https://www.openstreetmap.org/"]').count();
  check(osm > 0, 'the profile has no link to https://www.openstreetmap.org/');
  const scripts = await page.locator('script[type="application/ld+json"]').allTextContents();
  check(scripts.length > 0, 'the profile has no script[type="application/ld+json"]');
  let data;
  try {
    data = JSON.parse(scripts[0]);
  } catch (error) {
    throw new CheckFailed(`the JSON-LD does not parse: ${error.message}: ${scripts[0].slice(0, 300)}`);
  }
  const items = Array.isArray(data) ? data : [data];
  check(
    items.some((item) => /^https?:\/\/schema\.org\/?$/.test(String(item?.['@context'] ?? ''))),
    `the JSON-LD's @context is not schema.org: ${scripts[0].slice(0, 300)}`,
  );
  return `"${h1}", JSON-LD @type ${items.map((i) => i?.['@type']).join(', ')}`;
}

/** Clicks the first result card's name and waits for the profile. */
async function openFirstProfile(page) {
  const link = page.locator('ol.results > li h2 a').first();
  const name = ((await link.textContent()) || '').replace(/\s+/g, ' ').trim();
  check(name, 'the first card has an empty name link');
  // The card's link carries the search (?back=…), for "Back to results".
  await Promise.all([page.waitForURL(/\/providers\/[^/?#]+(\?back=[^#]*)?$/), link.click()]);
  await page.waitForLoadState('load');
  const back = page.locator('a', { hasText: 'Back to results' }).first();
  check((await back.count()) > 0, 'a profile opened from results has no "Back to results" link');
  const backHref = await back.getAttribute('href');
  check(backHref && backHref.startsWith('/?'), `"Back to results" leads to ${backHref}, not a search of this site`);
  return name;
}

async function checkErrorPage(page, path, status) {
  await goto(page, path, status);
  const h1 = await textOf(page, 'h1');
  check(h1, `the ${status} page for ${path} has no h1`);
  const links = await page.locator('a[href]').evaluateAll((as) => as.map((a) => a.href));
  check(links.length > 0, `the ${status} page for ${path} has no links`);
  return { h1, links };
}

// ---------------------------------------------------------------------------
// Patients' walks, in English and in Spanish.

/** What each language's pages say, where the walks look for it. */
const WORDS = {
  en: {
    condition: 'fibromyalgia',
    denver: /^\d+ providers? matching “fibromyalgia” within 25 miles of Denver, CO$/,
    bozeman: /^\d+ providers? within (25|100) miles of Bozeman, MT$/,
    accepting: /^\s*Accepting new patients/,
    call: /^Call\b/,
    back: 'Back to results',
    safety: SAFETY_WORDS,
  },
  es: {
    // A Spanish speaker types the Spanish word.
    condition: 'fibromialgia',
    denver: /^\d+ proveedor(es)? que coinciden? con “fibromialgia” a menos de 25 millas de Denver, CO$/,
    bozeman: /^\d+ proveedor(es)? a menos de (25|100) millas de Bozeman, MT$/,
    accepting: /^\s*Acepta pacientes nuevos/,
    call: /^Llamar\b/,
    back: 'Volver a los resultados',
    safety: ['embarazada', 'riñones', 'hígado', 'convulsiones', 'cabeza', 'historial médico'],
  },
};

/** The page is in `lang`: <html lang> and the URL's lang (none in English). */
async function inLanguage(page, lang) {
  const htmlLang = await page.evaluate(() => document.documentElement.lang);
  check(htmlLang === lang, `${page.url()} is <html lang="${htmlLang}">, expected "${lang}"`);
  const inUrl = new URL(page.url()).searchParams.get('lang');
  check(
    lang === 'en' ? inUrl === null : inUrl === lang,
    `${page.url()}: the address says lang=${inUrl}, expected ${lang === 'en' ? 'no lang' : lang}`,
  );
}

/** A results page in `lang` whose heading reads `pattern`. */
async function resultsIn(page, lang, pattern) {
  await inLanguage(page, lang);
  const result = await resultTotal(page);
  check(pattern.test(result.h1), `the heading "${result.h1}" does not read ${pattern}`);
  return result;
}

/** The start of a walk: the home page; in Spanish reached with the switch. */
async function startWalk(page, lang) {
  await goto(page, '/');
  if (lang !== 'en') {
    const toggle = page.locator('a.lang-switch').first();
    check((await toggle.count()) > 0, 'no language switch (a.lang-switch) on the home page');
    check((await toggle.getAttribute('hreflang')) === lang, `the switch leads to ${await toggle.getAttribute('hreflang')}`);
    await Promise.all([page.waitForURL((u) => u.searchParams.get('lang') === lang), toggle.click()]);
    await page.waitForLoadState('load');
  }
  await inLanguage(page, lang);
}

/** Checks the profile a walk opened: name, safety box, language. */
async function walkProfile(page, lang, name) {
  await inLanguage(page, lang);
  const h1 = await textOf(page, 'h1');
  check(h1 === name, `the profile h1 "${h1}" is not the card's name "${name}"`);
  const safety = ((await textOf(page, 'section.safety')) || '').toLowerCase();
  const absent = WORDS[lang].safety.filter((word) => !safety.includes(word));
  check(absent.length === 0, `the safety box lacks ${absent.join(', ')}: "${safety.slice(0, 300)}"`);
  const back = page.locator('p.back a').first();
  check(((await back.textContent()) || '').includes(WORDS[lang].back), `no "${WORDS[lang].back}" link on the profile`);
}

/** Clicks the first result, screenshots the profile (`shot`), checks it
 *  and returns the provider's name. */
async function openResult(page, lang, shot) {
  const link = page.locator('ol.results > li h2 a').first();
  const name = ((await link.textContent()) || '').replace(/\s+/g, ' ').trim();
  await Promise.all([page.waitForURL(/\/providers\/[^/?#]+/), link.click()]);
  await page.waitForLoadState('load');
  await shot();
  await walkProfile(page, lang, name);
  return name;
}

/** Walk 1: a phone in Denver looking for fibromyalgia care. */
async function phoneWalk(lang) {
  const words = WORDS[lang];
  const context = await newContext({ viewport: { width: 360, height: 800 }, hasTouch: true, isMobile: true });
  const page = await watchedPage(context);
  // The whole page, and what the phone shows before any scrolling.
  const shot = async (n, what) => {
    await screenshot(page, `walk1-${lang}-${n}-${what}.png`);
    await page.screenshot({ path: join(shotDir, `walk1-${lang}-${n}-${what}-first-screen.png`) });
  };
  let total;

  await step(`walk 1 (${lang}). phone 360×800: home`, async () => {
    await startWalk(page, lang);
    const scroll = await noHorizontalScroll(page, 'home');
    await shot(1, 'home');
    return `${scroll}; ${await axe(page, `walk 1 ${lang} home`)}`;
  });

  await step(`walk 1 (${lang}). search "${words.condition}" near Denver, CO`, async () => {
    await page.locator('#search input[name=q]').fill(words.condition);
    await page.locator('#search input[name=near]').fill('Denver, CO');
    await submitSearch(page);
    await shot(2, 'results');
    const result = await resultsIn(page, lang, words.denver);
    total = result.total;
    check(total > 0, `no providers: "${result.h1}"`);
    const first = await page.locator('ol.results > li').first().evaluate((el) => el.getBoundingClientRect().top + window.scrollY);
    check(first < 800, `the first result starts at ${Math.round(first)} px, below the phone's first screen`);
    const scroll = await noHorizontalScroll(page, 'results');
    return `"${result.h1}"; ${scroll}; ${await axe(page, `walk 1 ${lang} results`)}`;
  });

  await step(`walk 1 (${lang}). filter: accepting new patients`, async () => {
    // On a phone the filters sit below the results; "Filters (n)" leads there.
    await page.locator('.filters-link a').click();
    const facet = page.locator('aside.facets a', { hasText: words.accepting }).first();
    check((await facet.count()) > 0, `no facet link reading ${words.accepting}`);
    await Promise.all([page.waitForURL(/[?&]accepting=true(&|$)/), facet.click()]);
    await page.waitForLoadState('load');
    await shot(3, 'filtered');
    await inLanguage(page, lang);
    const result = await resultTotal(page);
    check(result.total > 0 && result.total <= total, `${result.total} providers after the filter (${total} before)`);
    const chips = await page.locator('ul.chips a').allTextContents();
    check(chips.some((c) => words.accepting.test(c)), `no chip for the filter: ${JSON.stringify(chips)}`);
    const scroll = await noHorizontalScroll(page, 'filtered results');
    return `"${result.h1}"; ${scroll}; ${await axe(page, `walk 1 ${lang} filtered`)}`;
  });

  await step(`walk 1 (${lang}). profile: the Call button is a tel: link on the first screen`, async () => {
    const name = await openResult(page, lang, () => shot(4, 'profile'));
    const call = page.locator('a.button.call').first();
    check((await call.count()) > 0, 'no Call button (a.button.call)');
    const href = (await call.getAttribute('href')) || '';
    check(/^tel:\+?\d{3,}$/.test(href), `the Call button leads to ${href}, not a tel: number`);
    const label = ((await call.textContent()) || '').trim();
    check(words.call.test(label), `the Call button reads "${label}"`);
    const box = await call.boundingBox();
    check(box && box.y + box.height <= 800, `the Call button is below the first screen (${JSON.stringify(box)})`);
    check(box.height >= 24, `the Call button is ${box.height} px high, too small to tap`);
    const scroll = await noHorizontalScroll(page, 'profile');
    return `"${name}": ${href}; ${scroll}; ${await axe(page, `walk 1 ${lang} profile`)}`;
  });
  await context.close();
}

/** Walk 2: a desktop visitor near Bozeman, MT, where providers are few. */
async function bozemanWalk(lang) {
  const words = WORDS[lang];
  const context = await newContext({ viewport: { width: 1280, height: 900 } });
  const page = await watchedPage(context);
  const shot = (n, what) => screenshot(page, `walk2-${lang}-${n}-${what}.png`);
  let total;

  await step(`walk 2 (${lang}). desktop: search near "Bozeman, MT"`, async () => {
    await startWalk(page, lang);
    await page.locator('#search input[name=near]').fill('Bozeman, MT');
    await submitSearch(page);
    await shot(1, 'results');
    const result = await resultsIn(page, lang, words.bozeman);
    total = result.total;
    if (total === 0) {
      const offers = await page.locator('.empty li a').count();
      check(offers > 0, 'nothing near Bozeman and no change offered');
    }
    return `"${result.h1}"; ${await axe(page, `walk 2 ${lang} results`)}`;
  });

  await step(`walk 2 (${lang}). a wider area: 100 miles`, async () => {
    await openSearchFold(page);
    await page.locator('#search select[name=radius]').selectOption('100');
    await submitSearch(page);
    await shot(2, 'wider');
    await inLanguage(page, lang);
    const result = await resultTotal(page);
    check(result.total >= total, `100 miles finds ${result.total}, fewer than 25 miles' ${total}`);
    check(result.total > 0, `nobody within 100 miles of Bozeman: "${result.h1}"`);
    total = result.total;
    return `"${result.h1}"; ${await axe(page, `walk 2 ${lang} wider`)}`;
  });

  await step(`walk 2 (${lang}). also telehealth providers licensed in Montana`, async () => {
    await openSearchFold(page);
    const choice = page.locator('#search input[name=include_telehealth]');
    check((await choice.count()) === 1, 'no "Also show telehealth providers licensed in…" choice');
    const label = await textOf(page, 'label[for=include_telehealth]');
    check(/Montana/.test(label), `the choice does not name Montana: "${label}"`);
    await choice.check();
    await submitSearch(page);
    await shot(3, 'telehealth');
    await inLanguage(page, lang);
    const result = await resultTotal(page);
    // "1 provider within 100 miles of Bozeman, MT and 2 telehealth
    // providers licensed in Montana": those by video are not "within".
    check(/Montana/.test(result.h1), `the heading does not count those by video apart: "${result.h1}"`);
    check(result.total === total, `the heading's in-person count changed: "${result.h1}"`);
    // Every provider reached by video says so, and is licensed in Montana.
    const lines = await page.locator('.reach-video').allTextContents();
    check(lines.length > 0, 'no card says it is reached by video');
    for (const line of lines) {
      check(/\bMT\b/.test(line), `a telehealth card is not licensed in MT: "${line}"`);
    }
    return `"${result.h1}", ${lines.length} by video; ${await axe(page, `walk 2 ${lang} telehealth`)}`;
  });

  await step(`walk 2 (${lang}). the nearest profile, with directions`, async () => {
    const name = await openResult(page, lang, () => shot(4, 'profile'));
    const directions = await page.locator('a[href^="https://www.openstreetmap.org/directions"]').count();
    check(directions > 0, 'no directions link on the profile');
    return `"${name}"; ${await axe(page, `walk 2 ${lang} profile`)}`;
  });
  await context.close();
}

/** Presses Tab; describes the focused element (null once focus left the
 *  page): what it is, whether it draws a visible outline. */
async function pressTab(page) {
  await page.keyboard.press('Tab');
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    return {
      id: el.id,
      tag: el.tagName.toLowerCase(),
      inResults: !!el.closest('ol.results'),
      what: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} ${el.textContent.trim().slice(0, 30)}`,
      outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    };
  });
}

/** Presses Tab until `predicate` holds for the focused element; returns
 *  how many stops it took, or fails after `limit`. Every stop must show
 *  a focus outline. */
async function tabUntil(page, predicate, what, limit = 80) {
  for (let stops = 1; stops <= limit; stops += 1) {
    const focus = await pressTab(page);
    check(focus, `Tab left the page before reaching ${what}`);
    check(focus.outline, `the focused ${focus.what} shows no outline`);
    if (predicate(focus)) return stops;
  }
  throw new CheckFailed(`${what} not reached within ${limit} Tab stops`);
}

/** Walk 3: keyboard only, JavaScript off. */
async function keyboardWalk(lang) {
  const words = WORDS[lang];
  const context = await newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
  const page = await watchedPage(context);
  const shot = (n, what) => screenshot(page, `walk3-${lang}-${n}-${what}.png`);
  // axe is a script, which this walk's page may not run: it checks the
  // same address in a page that may (the server sends the same HTML).
  const checker = await newContext({ viewport: { width: 1280, height: 900 } });
  const checkPage = await watchedPage(checker);
  const axeHere = async (label) => {
    await goto(checkPage, new URL(page.url()).pathname + new URL(page.url()).search);
    return axe(checkPage, label);
  };

  await step(`walk 3 (${lang}). keyboard, no JavaScript: Tab to the form and submit`, async () => {
    await goto(page, lang === 'en' ? '/' : `/?lang=${lang}`);
    await inLanguage(page, lang);
    const toWhat = await tabUntil(page, (f) => f.id === 'q', 'the "What" box');
    await page.keyboard.type(words.condition);
    const toWhere = await tabUntil(page, (f) => f.id === 'near', 'the "Where" box', 5);
    await page.keyboard.type('Denver, CO');
    await shot(1, 'form');
    await Promise.all([page.waitForURL((u) => u.searchParams.get('near') === 'Denver, CO'), page.keyboard.press('Enter')]);
    await page.waitForLoadState('load');
    const result = await resultsIn(page, lang, words.denver);
    await shot(2, 'results');
    return `${toWhat} Tab stops to "What", ${toWhere} more to "Where"; "${result.h1}"; ${await axeHere(`walk 3 ${lang} results`)}`;
  });

  await step(`walk 3 (${lang}). keyboard: reach the first result and open it`, async () => {
    const stops = await tabUntil(page, (f) => f.tag === 'a' && f.inResults, 'a result', 40);
    const name = await page.evaluate(() => document.activeElement.textContent.replace(/\s+/g, ' ').trim());
    await shot(3, 'focused-result');
    await Promise.all([page.waitForURL(/\/providers\/[^/?#]+/), page.keyboard.press('Enter')]);
    await page.waitForLoadState('load');
    await walkProfile(page, lang, name);
    await shot(4, 'profile');
    return `${stops} Tab stops to "${name}"; ${await axeHere(`walk 3 ${lang} profile`)}`;
  });
  await checker.close();
  await context.close();
}

// ---------------------------------------------------------------------------
// The run.

async function main() {
  currentStep = 'launch';
  // playwright gives each launch a fresh temporary profile (--user-data-dir).
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  console.log(`ok   launch Chromium ${browser.version()} against ${origin}`);

  // a–g: desktop, JavaScript on, the page's own CSP (no bypass).
  const desktop = await newContext({ viewport: { width: 1280, height: 900 } });
  const page = await watchedPage(desktop);
  let page1;
  let page2;
  let chicagoTotal;

  await step('a. home at 1280×900: search form with labelled q and near', async () => {
    await goto(page, '/');
    check((await page.locator('form[role=search]').count()) > 0, 'no form[role=search] on /');
    for (const name of ['q', 'near']) {
      const label = await labelOf(page, `form[role=search] input[name=${name}]`);
      check(label, `input[name=${name}] has no label (no <label for>, wrapping label, aria-label or aria-labelledby)`);
    }
    const detail = await axe(page, 'home 1280');
    await screenshot(page, 'home-1280.png');
    return detail;
  });

  await step('b. search near "Chicago, IL"', async () => {
    const { h1, total, cards } = await searchChicago(page);
    chicagoTotal = total;
    const detail = await axe(page, 'results 1280');
    await screenshot(page, 'results-1280.png');
    return `"${h1}", ${cards} cards; ${detail}`;
  });

  await step('c. filter: telehealth', async () => {
    await openSearchFold(page);
    const box = page.locator('#search input[name=telehealth]').first();
    let how;
    if ((await box.count()) > 0) {
      if (!(await box.isVisible())) {
        // Inside a closed <details class="filters">: open it as a person would.
        const summary = page.locator('#search details:has(input[name=telehealth]) > summary').first();
        check((await summary.count()) > 0, 'input[name=telehealth] is hidden and not inside a <details> with a <summary>');
        await summary.click();
        check(await box.isVisible(), 'input[name=telehealth] stays hidden after opening its <details>');
      }
      await box.check();
      await submitSearch(page);
      how = 'checkbox';
    } else {
      const facet = page.locator('aside a', { hasText: /^\s*Telehealth/ }).first();
      check((await facet.count()) > 0, 'neither #search input[name=telehealth] nor an aside link starting "Telehealth"');
      await Promise.all([page.waitForURL(/telehealth=true/), facet.click()]);
      how = 'facet link';
    }
    check(/[?&]telehealth=true(&|$)/.test(page.url()), `after the telehealth filter the URL is ${page.url()}`);
    const { h1, total } = await resultTotal(page);
    check(total < chicagoTotal, `the telehealth filter shows ${total} providers, not fewer than ${chicagoTotal}`);
    const texts = await page.locator('ol.results > li').allTextContents();
    check(texts.length > 0, 'no result cards with telehealth=true');
    const without = texts.findIndex((t) => !/telehealth/i.test(t));
    check(without < 0, `card ${without + 1} does not mention Telehealth: "${(texts[without] || '').replace(/\s+/g, ' ').trim().slice(0, 200)}"`);
    const checked = await page.locator('#search input[name=telehealth]').first().isChecked().catch(() => null);
    check(checked !== false, 'the telehealth checkbox is not ticked on the filtered results');
    page1 = await cardLinks(page);
    const detail = await axe(page, 'results telehealth 1280');
    return `via ${how}: "${h1}"; ${detail}`;
  });

  await step('d. next page', async () => {
    const next = page.locator('a[rel=next]').first();
    check((await next.count()) > 0, 'no a[rel=next] on the first results page');
    const inNav = await page.locator('nav[aria-label=Pagination] a[rel=next]').count();
    check(inNav > 0, 'a[rel=next] is not inside nav[aria-label=Pagination]');
    await Promise.all([page.waitForURL(/[?&]page=2(&|$)/), next.click()]);
    await page.waitForLoadState('load');
    check(/[?&]telehealth=true(&|$)/.test(page.url()), `page 2 lost the telehealth filter: ${page.url()}`);
    page2 = await cardLinks(page);
    check(page2.length > 0, 'page 2 has no result cards');
    const overlap = page2.filter((href) => page1.includes(href));
    check(overlap.length === 0, `page 2 repeats page 1's results: ${overlap.join(', ')}`);
    check((await page.locator('a[rel=prev]').count()) > 0, 'no a[rel=prev] on page 2');
    const detail = await axe(page, 'results page 2 1280');
    return `${page2.length} cards, none from page 1; ${detail}`;
  });

  await step('e. back and forward', async () => {
    await page.goBack();
    await page.waitForLoadState('load');
    check(!/[?&]page=2(&|$)/.test(page.url()), `back did not leave page 2: ${page.url()}`);
    const back = await cardLinks(page);
    check(back[0] === page1[0], `back shows first card ${back[0]}, page 1 had ${page1[0]}`);
    await page.goForward();
    await page.waitForLoadState('load');
    check(/[?&]page=2(&|$)/.test(page.url()), `forward did not return to page 2: ${page.url()}`);
    const forward = await cardLinks(page);
    check(forward[0] === page2[0], `forward shows first card ${forward[0]}, page 2 had ${page2[0]}`);
    return `page 1 first card ${page1[0]}, page 2 first card ${page2[0]}`;
  });

  await step('f. profile', async () => {
    const name = await openFirstProfile(page);
    const detail = await checkProfile(page, name);
    const axeDetail = await axe(page, 'profile 1280');
    await screenshot(page, 'profile-1280.png');
    // The "report a problem" form, opened (a native <details>).
    await page.locator('#report summary').click();
    const axeReport = await axe(page, 'profile with the report form open 1280');
    return `${detail}; ${axeDetail}; report form: ${axeReport}`;
  });

  await step('g. error pages: unknown place (400) and unknown provider (404)', async () => {
    const bad = await checkErrorPage(page, '/?near=Xyzzyville', 400);
    const home = bad.links.some((href) => {
      const u = new URL(href);
      return u.origin === origin && u.pathname === '/';
    });
    check(home, `the 400 page has no link back to the search (/): ${JSON.stringify(bad.links)}`);
    const axe400 = await axe(page, '400 page');
    await screenshot(page, 'error-400-1280.png');
    const missing = await checkErrorPage(page, '/providers/no-such-id', 404);
    const axe404 = await axe(page, '404 page');
    await screenshot(page, 'error-404-1280.png');
    return `400 "${bad.h1}" (${axe400}); 404 "${missing.h1}" (${axe404})`;
  });
  await desktop.close();

  // h: a small phone.
  const narrow = await newContext({ viewport: { width: 360, height: 800 } });
  const phone = await watchedPage(narrow);

  await step('h1. home at 360×800', async () => {
    await goto(phone, '/');
    const scroll = await noHorizontalScroll(phone, 'home');
    const detail = await axe(phone, 'home 360');
    await screenshot(phone, 'home-360.png');
    return `${scroll}; ${detail}`;
  });

  await step('h2. results at 360×800', async () => {
    const { h1 } = await searchChicago(phone);
    // After a search the form folds to one line: the first result shows
    // on the first screen of a phone.
    const firstCard = await phone.locator('ol.results > li').first().evaluate(
      (el) => el.getBoundingClientRect().top + window.scrollY,
    );
    check(firstCard < 800, `the first result starts at ${Math.round(firstCard)} px, below the first 800 px screen`);
    const folded = await phone.locator('details.search-fold').first().evaluate((d) => !d.open);
    check(folded, 'the search form is not folded on the results page');
    const scroll = await noHorizontalScroll(phone, 'results');
    const detail = await axe(phone, 'results 360');
    await screenshot(phone, 'results-360.png');
    return `"${h1}"; ${scroll}; ${detail}`;
  });

  await step('h3. profile at 360×800', async () => {
    const name = await openFirstProfile(phone);
    await checkProfile(phone, name);
    const scroll = await noHorizontalScroll(phone, 'profile');
    const detail = await axe(phone, 'profile 360');
    await screenshot(phone, 'profile-360.png');
    return `"${name}"; ${scroll}; ${detail}`;
  });
  await narrow.close();

  // h4: a 1280×900 window zoomed to 200 % lays out like a 640×450 viewport
  // at twice the pixel density (WCAG 1.4.4 / 1.4.10).
  const zoomed = await newContext({ viewport: { width: 640, height: 450 }, deviceScaleFactor: 2 });
  const zoomedPage = await watchedPage(zoomed);

  await step('h4. 200 % zoom of 1280×900: results and profile', async () => {
    await goto(zoomedPage, '/');
    const { h1 } = await searchChicago(zoomedPage);
    const results = await noHorizontalScroll(zoomedPage, 'results at 200 %', 640);
    await screenshot(zoomedPage, 'results-zoom200.png');
    const name = await openFirstProfile(zoomedPage);
    const profile = await noHorizontalScroll(zoomedPage, 'profile at 200 %', 640);
    return `"${h1}": ${results}; "${name}": ${profile}`;
  });

  // h5: keyboard users see where they are: the skip link appears on the
  // first Tab and every focused control draws an outline.
  await step('h5. keyboard: skip link and visible focus', async () => {
    await goto(zoomedPage, '/');
    await zoomedPage.keyboard.press('Tab');
    const skip = await zoomedPage.evaluate(() => {
      const el = document.activeElement;
      const r = el.getBoundingClientRect();
      return { text: el.textContent.trim(), href: el.getAttribute('href'), top: r.top, bottom: r.bottom };
    });
    check(skip.href === '#main', `the first Tab focuses ${JSON.stringify(skip)}, expected the skip link to #main`);
    check(skip.top >= 0 && skip.bottom <= 450, `the focused skip link is off screen: ${JSON.stringify(skip)}`);
    const unoutlined = [];
    let stops = 0;
    // Tab through the page until focus leaves it (back to the browser).
    for (let i = 0; i < 40; i += 1) {
      const focus = await pressTab(zoomedPage);
      if (!focus) break;
      stops += 1;
      if (!focus.outline) unoutlined.push(focus.what);
    }
    check(stops >= 8, `only ${stops} Tab stops after the skip link on the home page`);
    check(unoutlined.length === 0, `focused without a visible outline: ${unoutlined.join('; ')}`);
    return `skip link "${skip.text}" shown on focus; ${stops} further Tab stops, all outlined`;
  });
  await zoomed.close();

  // i: no JavaScript at all.
  const noJs = await newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
  const plain = await watchedPage(noJs);

  await step('i. JavaScript disabled: search and next page', async () => {
    await goto(plain, '/');
    const { h1 } = await searchChicago(plain);
    const first = await cardLinks(plain);
    const next = plain.locator('a[rel=next]').first();
    check((await next.count()) > 0, 'no a[rel=next] without JavaScript');
    await Promise.all([plain.waitForURL(/[?&]page=2(&|$)/), next.click()]);
    const second = await cardLinks(plain);
    check(second.length > 0 && second[0] !== first[0], `page 2 without JavaScript shows the same first card ${second[0]}`);
    return `"${h1}", page 2 has ${second.length} cards`;
  });

  await step('i2. JavaScript disabled: report a problem from a profile', async () => {
    await goto(plain, '/providers/p-000001');
    await plain.locator('#report summary').click();
    await plain.locator('#report input[name=reason][value=phone]').check();
    await plain.locator('#report-details').fill('The number rings another practice.');
    await Promise.all([
      plain.waitForURL(/\/providers\/p-000001\/report\?sent=1$/),
      plain.locator('#report button[type=submit]').click(),
    ]);
    const h1 = ((await plain.locator('h1').first().textContent()) || '').trim();
    check(/Thank you/.test(h1), `after sending, the page says "${h1}", not thank you`);
    await screenshot(plain, 'report-thanks-nojs.png');
    return `"${h1}"`;
  });
  await noJs.close();

  // k: the script's enhancements, where the page offers them: place
  // suggestions in the "Where" box's <datalist>, and "Use my location".
  const located = await newContext({
    viewport: { width: 1280, height: 900 },
    geolocation: { latitude: 41.8781, longitude: -87.6298 },
    permissions: ['geolocation'],
  });
  const enhanced = await watchedPage(located);

  await step('k1. place suggestions while typing in "Where"', async () => {
    await goto(enhanced, '/');
    const listId = await enhanced.locator('#search input[name=near]').first().getAttribute('list');
    if (!listId) return 'not offered (no list attribute on input[name=near])';
    const near = enhanced.locator('#search input[name=near]').first();
    await near.click();
    await near.pressSequentially('Chica', { delay: 40 });
    const options = enhanced.locator(`datalist[id="${listId}"] option`);
    try {
      await options.first().waitFor({ state: 'attached', timeout: 5_000 });
    } catch {
      throw new CheckFailed(`typing "Chica" filled no suggestions into datalist#${listId} within 5 s`);
    }
    const values = await options.evaluateAll((os) => os.map((o) => o.value));
    check(values.some((v) => v.startsWith('Chicago')), `the suggestions for "Chica" do not include Chicago: ${JSON.stringify(values)}`);
    return `${values.length} suggestions: ${values.slice(0, 3).join('; ')}…`;
  });

  await step('k2. "Use my location" searches near the browser\'s position', async () => {
    const button = enhanced.locator('#use-location');
    if ((await button.count()) === 0) return 'not offered (no #use-location)';
    check(await button.isVisible(), '#use-location stays hidden although the browser has geolocation');
    await Promise.all([enhanced.waitForURL(/[?&]near=41\.8781(%2C|,)-87\.6298/), button.click()]);
    await enhanced.waitForLoadState('load');
    const { h1, total } = await resultTotal(enhanced);
    check(total > 0, `no providers near the browser's position: "${h1}"`);
    return `"${h1}"`;
  });
  await located.close();

  for (const lang of ['en', 'es']) {
    await phoneWalk(lang);
    await bozemanWalk(lang);
    await keyboardWalk(lang);
  }

  // j: the listeners above ran on every page of a–k and of the walks (none
  // bypassed the CSP).
  await step('j. no CSP violation, page error or third-party request on any page', async () => 'checked on every page above');

  await browser.close();
  console.log(`browser test passed in ${seconds()} s`);
}

main().catch((error) => fail(error?.stack || String(error)));
