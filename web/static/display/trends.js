// Blood pressure and weight over the last 30 days, drawn with uPlot. Lines differ by dash and point shape,
// not only by colour, and each chart has a sentence saying what it shows for those who cannot see it.
import uPlot from '/vendor/uplot/uPlot.esm.js';
import { byTestId, replace, h } from '/common/dom.js';
import { t } from '/common/i18n.js';
import * as api from '/common/api.js';
import { number, shortDate, dateTime } from '/common/format.js';

const charts = new Map();

function chartWidth(el) {
  return Math.max(280, Math.floor(el.getBoundingClientRect().width || el.parentElement.clientWidth || 600));
}

function chartHeight() {
  return window.innerHeight <= 500 ? 220 : 300;
}

function axes(unitDigits) {
  const common = { stroke: '#111111', grid: { stroke: '#d0d0d0' }, ticks: { stroke: '#6b6b6b' }, font: '16px system-ui, sans-serif' };
  return [
    // Room for "30 Nov" under every tick (uPlot's default spacing crowds dates together).
    { ...common, space: 90, values: (u, splits) => splits.map((s) => shortDate(s * 1000)) },
    { ...common, size: 60, values: (u, splits) => splits.map((s) => number(s, unitDigits)) },
  ];
}

function draw(testid, series, data, digits) {
  const el = byTestId(testid);
  charts.get(testid)?.destroy();
  charts.delete(testid);
  const points = data[0].length;
  el.dataset.points = String(points);
  if (points === 0) {
    replace(el, h('p', { testid: 'chart-empty' }, t('trends.none')));
    return;
  }
  replace(el);
  const opts = {
    width: chartWidth(el), height: chartHeight(),
    scales: { x: { time: true } },
    axes: axes(digits),
    cursor: { drag: { x: false, y: false } },
    legend: { show: true, live: false },
    series: [{ value: (u, v) => (v == null ? '' : dateTime(v * 1000)) }, ...series],
  };
  charts.set(testid, new uPlot(opts, data, el));
}

async function drawBloodPressure() {
  const res = await api.get('/api/display/series?kind=blood-pressure&days=30');
  const pts = res.points ?? [];
  const data = [pts.map((p) => Date.parse(p.time) / 1000), pts.map((p) => p.values.systolic ?? null), pts.map((p) => p.values.diastolic ?? null)];
  draw('chart-bp', [
    { label: t('trends.systolic'), stroke: '#8b0000', width: 3, points: { size: 10, fill: '#8b0000' } },
    { label: t('trends.diastolic'), stroke: '#0b4f9c', width: 3, dash: [10, 6], points: { size: 10, fill: '#ffffff' } },
  ], data, 0);
  const last = pts.at(-1);
  const label = t('trends.bp');
  const summary = last
    ? t('trends.bp.summary', { count: pts.length, value: t('value.bp', { systolic: number(last.values.systolic, 0), diastolic: number(last.values.diastolic, 0) }), date: dateTime(last.time) })
    : t('trends.none');
  byTestId('chart-bp').setAttribute('aria-label', `${label}. ${summary}`);
  byTestId('chart-bp-summary').textContent = summary;
}

async function drawWeight() {
  const res = await api.get('/api/display/series?kind=body-weight&days=30');
  const pts = res.points ?? [];
  const data = [pts.map((p) => Date.parse(p.time) / 1000), pts.map((p) => p.values.value ?? null)];
  draw('chart-weight', [
    { label: t('trends.weight.series'), stroke: '#0d5c2e', width: 3, points: { size: 10, fill: '#0d5c2e' } },
  ], data, 1);
  const first = pts[0];
  const last = pts.at(-1);
  const summary = last
    ? t('trends.weight.summary', { count: pts.length, first: number(first.values.value, 1), last: number(last.values.value, 1), date: dateTime(last.time) })
    : t('trends.none');
  byTestId('chart-weight').setAttribute('aria-label', `${t('trends.weight')}. ${summary}`);
  byTestId('chart-weight-summary').textContent = summary;
}

export async function drawTrends() {
  await Promise.all([drawBloodPressure(), drawWeight()]);
}

// Charts follow the screen's width (a tablet turned, a phone).
export function resizeTrends() {
  for (const [testid, chart] of charts) chart.setSize({ width: chartWidth(byTestId(testid)), height: chartHeight() });
}
