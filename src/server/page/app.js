// The page of `email-verify serve`, for the people who clean lists without a terminal: a key, a
// file, its estimate, a job's live progress, its report and its files. It speaks only the public
// API (seed 004's jobs and our additions, all in /openapi.json), with the key from this tab's
// sessionStorage. Everything that comes from a user's file or the server is put in the page as
// text (textContent, option.text), never as HTML: a cell holding <script> stays a string.

const KEY_STORAGE = 'email-verify.key';
// How often a running job, or a list with running jobs, is read again.
const POLL_MS = 1000;
const RESULTS = [
  { key: 'valid', label: 'valid' },
  { key: 'valid_role_based', label: 'valid, role inbox' },
  { key: 'risky', label: 'risky' },
  { key: 'invalid', label: 'invalid' },
  { key: 'unknown', label: 'unknown' },
];
// Which split file each result goes to, as the CLI splits them (role inboxes go with the valid).
const BUCKETS = [
  { key: 'valid', results: ['valid', 'valid_role_based'] },
  { key: 'risky', results: ['risky'] },
  { key: 'invalid', results: ['invalid'] },
  { key: 'unknown', results: ['unknown'] },
];

const $ = (id) => document.getElementById(id);

let apiKey = sessionStorage.getItem(KEY_STORAGE) ?? '';
/** The file being estimated, and its latest estimate (undefined while none is good). */
let chosen = { file: undefined, estimate: undefined, columns: [] };
let timer;
/** Counts every view shown, so an answer for a view left behind is dropped. */
let generation = 0;

class ApiFailure extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

// ---------------------------------------------------------------- the API

async function api(path, init = {}) {
  let response;
  try {
    response = await fetch(path, { ...init, headers: { ...init.headers, 'X-API-Key': apiKey } });
  } catch (error) {
    throw new ApiFailure(`The server could not be reached (${error.message}): is email-verify serve still running?`, 0);
  }
  if (response.ok) return response;
  let body;
  let message = `The server answered ${response.status} ${response.statusText}`.trim();
  try {
    body = await response.json();
    message = body.error || body.message || message;
  } catch {
    // not JSON: the status line says it
  }
  if (response.status === 401) {
    forgetKey();
    message = `The server refused the API key (${message}). Enter the key again.`;
  }
  throw new ApiFailure(message, response.status, body);
}

const getJson = async (path) => (await api(path)).json();
const postJson = async (path, body) => (await api(path, { method: 'POST', body })).json();

// ---------------------------------------------------------------- small helpers

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

const count = (n) => Number(n ?? 0).toLocaleString('en-US');
const money = (n) => `$${Number(n ?? 0).toFixed(4)}`;
const percent = (part, whole) => (whole > 0 ? `${Math.round((100 * part) / whole)}%` : '0%');

function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

function announce(message) {
  $('status').textContent = message;
}

/** Runs an action, showing what went wrong in words instead of failing silently. */
async function guarded(action) {
  try {
    clearError();
    await action();
  } catch (error) {
    showError(error instanceof ApiFailure ? error.message : `Something went wrong in the page: ${error.message}`);
    if (error instanceof ApiFailure && error.status === 401) render();
  }
}

function stopPolling() {
  clearTimeout(timer);
  timer = undefined;
}

function pollLater(fn) {
  stopPolling();
  timer = setTimeout(fn, POLL_MS);
}

// ---------------------------------------------------------------- the key

function forgetKey() {
  apiKey = '';
  sessionStorage.removeItem(KEY_STORAGE);
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = $('key-input').value.trim();
  if (value === '') return;
  apiKey = value;
  sessionStorage.setItem(KEY_STORAGE, value);
  $('key-input').value = '';
  clearError();
  render();
});

$('key-forget').addEventListener('click', () => {
  forgetKey();
  render();
  $('key-input').focus();
});

// ---------------------------------------------------------------- the file and its estimate

async function estimateFile(column) {
  const form = new FormData();
  form.set('file', chosen.file, chosen.file.name);
  if (column !== undefined) form.set('column', column);
  chosen.estimate = undefined;
  $('start').disabled = true;
  $('estimate-file').textContent = `${chosen.file.name}: reading…`;
  $('estimate').hidden = false;
  try {
    const estimate = await postJson('/v1/email/validate/estimate', form);
    chosen.estimate = estimate;
    chosen.columns = estimate.header;
    renderEstimate(estimate);
    announce(`${count(estimate.rows)} rows read; the email column is ${estimate.emailColumn.name}`);
  } catch (error) {
    // A list whose address column was not found still shows its columns, to choose one.
    if (error instanceof ApiFailure && Array.isArray(error.body?.header)) {
      chosen.columns = error.body.header;
      renderColumns(chosen.columns, -1);
      clearEstimateFigures();
      $('estimate-file').textContent = `${chosen.file.name}: choose the email column`;
    } else {
      $('estimate').hidden = true;
    }
    throw error;
  }
}

async function chooseFile(file) {
  if (!file) return;
  chosen = { file, estimate: undefined, columns: [] };
  $('label-input').value = file.name;
  await guarded(() => estimateFile(undefined));
}

function renderColumns(header, selected) {
  const select = $('column-select');
  select.replaceChildren();
  if (selected < 0) {
    const none = el('option', 'Choose a column');
    none.value = '';
    none.selected = true;
    select.append(none);
  }
  header.forEach((name, i) => {
    const option = el('option', `${i + 1}. ${name}`);
    option.value = String(i + 1);
    option.selected = i === selected;
    select.append(option);
  });
}

function clearEstimateFigures() {
  for (const id of ['est-rows', 'est-unique', 'est-duplicates', 'est-well-formed', 'est-credits', 'est-per-address'])
    $(id).textContent = '–';
  $('est-note').textContent = '';
  $('preview').tHead.replaceChildren();
  $('preview').tBodies[0].replaceChildren();
}

function renderEstimate(estimate) {
  const { credits } = estimate;
  $('estimate-file').textContent = `${chosen.file.name}: nothing has been verified yet.`;
  renderColumns(estimate.header, estimate.emailColumn.index);
  $('est-rows').textContent = count(estimate.rows);
  $('est-unique').textContent = count(estimate.unique);
  $('est-duplicates').textContent = count(estimate.duplicates);
  $('est-well-formed').textContent = count(estimate.wellFormed);
  $('est-credits').textContent = `${count(credits.credits_charged)} (${money(credits.pay_per_valid_cost)})`;
  $('est-per-address').textContent = money(credits.pay_per_address_cost);
  $('est-note').textContent =
    `A pay-per-valid service would charge at most ${count(credits.credits_charged)} credits at ${money(credits.credit_price)} each; ` +
    `verifying each repeated address once saves ${money(credits.dedup_saved)}. Verifying here costs nothing.`;

  const table = $('preview');
  const head = el('tr');
  estimate.header.forEach((name, i) => {
    const th = el('th', name);
    th.scope = 'col';
    if (i === estimate.emailColumn.index) th.className = 'email-col';
    head.append(th);
  });
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren(
    ...estimate.preview.map((cells) => {
      const tr = el('tr');
      cells.forEach((cell, i) => tr.append(el('td', cell, i === estimate.emailColumn.index ? 'email-col' : undefined)));
      return tr;
    }),
  );
  $('start').disabled = false;
}

$('file-input').addEventListener('change', (event) => void chooseFile(event.target.files?.[0]));

const drop = $('drop');
drop.addEventListener('dragover', (event) => {
  event.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (event) => {
  event.preventDefault();
  drop.classList.remove('over');
  void chooseFile(event.dataTransfer?.files?.[0]);
});

$('column-select').addEventListener('change', (event) => {
  const column = event.target.value;
  if (column !== '' && chosen.file) void guarded(() => estimateFile(column));
});

$('start').addEventListener('click', () =>
  guarded(async () => {
    if (!chosen.file || !chosen.estimate) return;
    const form = new FormData();
    form.set('label', $('label-input').value.trim() || chosen.file.name);
    form.set('source', /\.xlsx$/i.test(chosen.file.name) ? 'excel' : 'file');
    form.set('column', String(chosen.estimate.emailColumn.index + 1));
    form.set('file', chosen.file, chosen.file.name);
    $('start').disabled = true;
    try {
      const { id } = await postJson('/v1/email/validate/job', form);
      chosen = { file: undefined, estimate: undefined, columns: [] };
      $('file-input').value = '';
      $('estimate').hidden = true;
      location.hash = `#job/${id}`;
    } finally {
      $('start').disabled = !chosen.estimate;
    }
  }),
);

// ---------------------------------------------------------------- one job

const jobPath = (id) => `/v1/email/validate/job/${encodeURIComponent(id)}`;

function resultCounts(job) {
  // Our five results when the server kept reason counts; else the seed's four classifiers.
  if (job.reasons) {
    const counts = {};
    for (const { key } of RESULTS) counts[key] = Object.values(job.reasons[key] ?? {}).reduce((a, b) => a + b, 0);
    return counts;
  }
  const s = job.summary;
  return {
    valid: s.deliverableCount,
    valid_role_based: 0,
    risky: s.riskyCount,
    invalid: s.undeliverableCount,
    unknown: s.unknownCount,
  };
}

function bar(label, value, total, className) {
  const item = el('li', undefined, `bar-row ${className ?? ''}`.trim());
  item.append(el('span', label, 'bar-label'));
  const track = el('span', undefined, 'bar-track');
  track.setAttribute('aria-hidden', 'true');
  const fill = el('span', undefined, 'bar-fill');
  // A style property set from script: the Content-Security-Policy refuses style attributes in markup.
  fill.style.width = total > 0 ? `${(100 * value) / total}%` : '0';
  track.append(fill);
  item.append(track, el('span', `${count(value)} (${percent(value, total)})`, 'bar-value'));
  return item;
}

function renderReport(job) {
  $('job-credits').textContent =
    `A pay-per-valid service would have charged ${count(job.creditsCharged)} credits ` +
    `(${money(job.creditsCharged * job.creditPrice)} at ${money(job.creditPrice)} each); here it cost nothing.`;
  const counts = resultCounts(job);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  $('chart-results').replaceChildren(...RESULTS.map(({ key, label }) => bar(label, counts[key] ?? 0, total, `result-${key}`)));

  const reasons = [];
  for (const [result, codes] of Object.entries(job.reasons ?? {})) {
    for (const [code, n] of Object.entries(codes)) reasons.push({ result, code, n });
  }
  reasons.sort((a, b) => b.n - a.n || a.code.localeCompare(b.code));
  $('chart-reasons').replaceChildren(
    ...(reasons.length > 0
      ? reasons.map(({ result, code, n }) => bar(`${code || 'none'} (${result})`, n, total, `result-${result}`))
      : [el('li', 'Reason codes were not kept for this job (made by an older version).')]),
  );

  $('files').replaceChildren(
    ...BUCKETS.map(({ key, results }) => {
      const rows = results.reduce((n, r) => n + (counts[r] ?? 0), 0);
      const item = el('li');
      const link = el('a', `Download ${key}.csv`);
      link.href = job.files?.[key] ?? '#';
      link.download = `job-${job.id}.${key}.csv`;
      item.append(link, el('span', ` ${count(rows)} rows`));
      return item;
    }),
  );
}

function renderJob(job) {
  $('job-title').textContent = `Job ${job.id}${job.label ? `: ${job.label}` : ''}`;
  $('job-state').textContent = job.state;
  $('job-state').className = `state state-${job.state}`;
  const total = job.emailCount;
  const decided = job.progress ? job.progress.decided : job.summary.totalEmails;
  $('job-decided').textContent = `${count(decided)} / ${count(total)} rows decided`;
  $('job-bar').max = Math.max(1, total);
  $('job-bar').value = Math.min(decided, total);

  const progress = job.progress;
  if (progress) {
    // While only greylisted addresses are left, the time left is the mail servers' to decide.
    const eta = progress.etaSeconds === null || progress.waiting ? '' : ` · about ${duration(progress.etaSeconds)} left`;
    $('job-rate').textContent = `${progress.rate.toFixed(1)} rows/s${eta}`;
  } else {
    $('job-rate').textContent =
      job.state === 'pending'
        ? 'Waiting for a free slot: other jobs are running.'
        : job.state === 'paused'
          ? 'Paused: resume to go on.'
          : '';
  }
  const waiting = $('job-waiting');
  waiting.hidden = !(progress && progress.greylisted > 0);
  if (progress && progress.greylisted > 0) {
    const next = progress.nextRetryInSeconds;
    const when = next === null || next < 1 ? 'in a moment' : `in ${duration(next)}`;
    const who = progress.greylisted === 1 ? '1 address is' : `${count(progress.greylisted)} addresses are`;
    waiting.textContent =
      `Waiting: ${who} greylisted (the mail server asked to try again later); asking again ${when}. ` +
      (progress.waiting ? 'Everything else is decided.' : '');
  }
  $('job-error').hidden = job.error === undefined;
  $('job-error').textContent = job.error ? `The job failed: ${job.error}` : '';
  $('job-pause').hidden = !(job.state === 'pending' || job.state === 'running');
  $('job-resume').hidden = job.state !== 'paused';
  $('job-report').hidden = job.state !== 'done';
  if (job.state === 'done') renderReport(job);
}

async function showJob(id, mine) {
  const job = await getJson(jobPath(id));
  if (mine !== generation) return;
  const before = $('job-state').textContent;
  renderJob(job);
  if (before && before !== job.state) announce(`Job ${job.id} is ${job.state}`);
  if (job.state === 'pending' || job.state === 'running') pollLater(() => void guardedJob(id, mine));
}

async function guardedJob(id, mine) {
  try {
    await showJob(id, mine);
    clearError();
  } catch (error) {
    if (mine !== generation) return;
    showError(error instanceof ApiFailure ? error.message : `Something went wrong in the page: ${error.message}`);
    if (error instanceof ApiFailure && error.status === 401) return render();
    // A job that is gone stays gone; anything else may pass (a restart): keep asking.
    if (!(error instanceof ApiFailure && error.status === 404)) pollLater(() => void guardedJob(id, mine));
  }
}

function currentJobId() {
  return /^#job\/(\d+)$/.exec(location.hash)?.[1];
}

async function jobAction(action) {
  const id = currentJobId();
  if (!id) return;
  // A poll already on its way answers from before the action: a new generation drops it.
  const mine = ++generation;
  stopPolling();
  await guarded(async () => {
    const job = await postJson(`${jobPath(id)}/${action}`);
    if (mine !== generation) return;
    renderJob(job);
    announce(`Job ${job.id} is ${job.state}`);
    if (job.state === 'pending' || job.state === 'running') pollLater(() => void guardedJob(id, mine));
  });
}

$('job-pause').addEventListener('click', () => void jobAction('pause'));
$('job-resume').addEventListener('click', () => void jobAction('resume'));
$('job-delete').addEventListener('click', () => {
  const id = currentJobId();
  if (!id || !confirm(`Delete job ${id} and all its results?`)) return;
  generation += 1;
  stopPolling();
  void guarded(async () => {
    await api(jobPath(id), { method: 'DELETE' });
    announce(`Job ${id} deleted`);
    location.hash = '';
  });
});

$('filtered').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = currentJobId();
  const filters = [...event.target.querySelectorAll('input[name="filters"]:checked')].map((box) => box.value);
  if (!id) return;
  if (filters.length === 0) return showError('Choose at least one result to download.');
  void guarded(async () => {
    // The download needs the key in a header, so it is fetched here and handed over as a file.
    const query = filters.map((f) => `filters=${encodeURIComponent(f)}`).join('&');
    const blob = await (await api(`${jobPath(id)}/download?${query}`)).blob();
    const url = URL.createObjectURL(blob);
    const link = el('a');
    link.href = url;
    link.download = `job-${id}.${filters.join('-')}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  });
});

// ---------------------------------------------------------------- the list of jobs

async function showJobs(mine) {
  const jobs = await getJson('/v1/email/validate/job');
  if (mine !== generation) return;
  $('jobs-empty').hidden = jobs.length > 0;
  $('jobs-table').hidden = jobs.length === 0;
  $('jobs-table').tBodies[0].replaceChildren(
    ...jobs.map((job) => {
      const tr = el('tr');
      const name = el('td');
      const link = el('a', `Job ${job.id}${job.label ? `: ${job.label}` : ''}`);
      link.href = `#job/${job.id}`;
      name.append(link);
      tr.append(
        name,
        el('td', job.state, `state state-${job.state}`),
        el('td', `${count(job.summary.totalEmails)} / ${count(job.emailCount)}`),
        el('td', job.createdAt ? job.createdAt.replace('T', ' ').replace('Z', ' UTC') : ''),
      );
      return tr;
    }),
  );
  if (jobs.some((job) => job.state === 'pending' || job.state === 'running')) {
    pollLater(() => void guarded(() => showJobs(mine)));
  }
}

// ---------------------------------------------------------------- views

function render() {
  generation += 1;
  const mine = generation;
  stopPolling();
  const hasKey = apiKey !== '';
  $('key-form').hidden = hasKey;
  $('key-set').hidden = !hasKey;
  $('needs-key').hidden = hasKey;
  const id = currentJobId();
  $('upload').hidden = !hasKey || id !== undefined;
  $('jobs').hidden = !hasKey || id !== undefined;
  $('job').hidden = !hasKey || id === undefined;
  if (!hasKey) return;
  if (id !== undefined) {
    $('job-state').textContent = '';
    $('job-report').hidden = true;
    $('job-title').textContent = `Job ${id}`;
    $('job-title').focus();
    void guardedJob(id, mine);
  } else {
    void guarded(() => showJobs(mine));
  }
}

window.addEventListener('hashchange', () => {
  clearError();
  render();
});
render();
