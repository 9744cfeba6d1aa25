// The bureau's dashboard: same-origin calls with the bearer token in a header (never in a URL), every
// piece of user or place text inserted as text (no innerHTML), charts by Apache ECharts when present.
'use strict';

(() => {
  const API = '/api/v1';
  const TOKEN_KEY = 'fazhizhen.bureau.token';
  const $ = (id) => document.getElementById(id);
  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    from: '', to: '', category: '',
    place: [],  // the drill-down path: [{level, id, name}]
  };
  const charts = {};
  let streamAbort = null;

  // --- helpers ----------------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'class') node.className = v;
      else if (k.startsWith('data-') || k === 'title' || k === 'aria-label') node.setAttribute(k, String(v));
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node[k] = v;
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)));
    return node;
  }

  const fmt = {
    int: (n) => (n === null || n === undefined ? '—' : String(n)),
    rate: (r) => (r === null || r === undefined ? '—' : (r * 100).toFixed(1) + '%'),
    minutes: (s) => (s === null || s === undefined ? '—' : (s / 60).toFixed(1) + ' 分钟'),
    seconds: (s) => (s === null || s === undefined ? '—' : s.toFixed(3) + ' 秒'),
    score: (x) => (x === null || x === undefined ? '—' : x.toFixed(1)),
    rating: (x) => (x === null || x === undefined ? '—' : x.toFixed(2)),
    time: (iso) => (iso ? new Date(iso).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false }) : '—'),
  };

  function localDate(offsetDays) {
    const now = new Date(Date.now() + 8 * 3600 * 1000 - offsetDays * 86400 * 1000);
    return now.toISOString().slice(0, 10);  // the date in Asia/Shanghai (UTC+8, no DST)
  }

  function filters(extra) {
    const p = { from: state.from, to: state.to };
    if (state.category) p.category = state.category;
    for (const step of state.place) p[step.level + '_id'] = step.id;
    return Object.assign(p, extra || {});
  }

  async function call(path, params, init) {
    const url = new URL(API + path, window.location.origin);
    for (const [k, v] of Object.entries(params || {})) if (v !== '' && v !== undefined && v !== null) url.searchParams.set(k, v);
    const headers = Object.assign({ Authorization: 'Bearer ' + state.token }, (init && init.headers) || {});
    const resp = await fetch(url, Object.assign({}, init || {}, { headers }));
    if (resp.status === 401) { logout(); throw new Error('登录已过期，请重新登录'); }
    if (!resp.ok) {
      let msg = '请求失败（' + resp.status + '）';
      try { const body = await resp.json(); msg = body.error.message + (body.error.details.length ? '：' + body.error.details.map((d) => d.field).join('、') : ''); } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    return resp;
  }

  const getJSON = async (path, params) => (await call(path, params)).json();

  function status(text) { $('status').textContent = text || ''; }

  // --- login ------------------------------------------------------------------------------------

  function showLogin() { $('app').hidden = true; $('login').hidden = false; $('login-username').focus(); }

  async function login(ev) {
    ev.preventDefault();
    $('login-error').textContent = '';
    const resp = await fetch(API + '/auth/login', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: $('login-username').value, password: $('login-password').value }),
    });
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) { $('login-error').textContent = (body.error && body.error.message) || '登录失败'; return; }
    if (body.role !== 'bureau') { $('login-error').textContent = '仅限司法局账号登录'; return; }
    state.token = body.token;
    sessionStorage.setItem(TOKEN_KEY, body.token);
    $('login-password').value = '';
    start();
  }

  function logout() {
    if (state.token) fetch(API + '/auth/logout', { method: 'POST', headers: { Authorization: 'Bearer ' + state.token } }).catch(() => {});
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    if (streamAbort) streamAbort.abort();
    showLogin();
  }

  // --- rendering --------------------------------------------------------------------------------

  function kpi(key, label, value, text, sub) {
    return el('div', { class: 'kpi', 'data-kpi': key, 'data-value': value === null || value === undefined ? '' : String(value) },
      el('div', { class: 'label' }, label), el('div', { class: 'value' }, text), el('div', { class: 'sub' }, sub || ''));
  }

  function renderKpis(s, today) {
    const d = s.denominators;
    $('kpis').replaceChildren(
      kpi('today_questions', '今日提问', today.questions, fmt.int(today.questions), '今日已解答 ' + today.answered),
      kpi('questions', '区间提问', s.questions, fmt.int(s.questions), '已解答 ' + s.answered + '（' + fmt.rate(s.response_rate) + '）'),
      kpi('avg_response_seconds', '平均首次响应', s.avg_response_seconds, fmt.minutes(s.avg_response_seconds), 'P50 ' + fmt.minutes(s.p50_response_seconds)),
      kpi('p90_response_seconds', 'P90 首次响应', s.p90_response_seconds, fmt.minutes(s.p90_response_seconds), s.percentiles === 'exact' ? '精确分位数' : '直方图估算'),
      kpi('within_sla_rate', Math.round(s.window_seconds / 60) + ' 分钟内响应率', s.within_sla_rate, fmt.rate(s.within_sla_rate), s.within_sla + ' / ' + d.within_sla_rate.count),
      kpi('escalation_rate', '升级率', s.escalation_rate, fmt.rate(s.escalation_rate), s.escalated + ' / ' + d.escalation_rate.count + '，告警 ' + s.alerted),
      kpi('adoption_rate', '采纳率', s.adoption_rate, fmt.rate(s.adoption_rate), s.adopted + ' / ' + d.adoption_rate.count),
      kpi('satisfaction_rate', '满意度', s.satisfaction_rate, fmt.rate(s.satisfaction_rate), '评价率 ' + fmt.rate(s.evaluation_rate) + '，均分 ' + fmt.rating(s.avg_rating)),
      kpi('open_callbacks', '待回访', s.open_callbacks, fmt.int(s.open_callbacks), '评分 1–2 分'),
    );
    const honest = [
      ['平均首次实质解答', fmt.minutes(s.avg_substantive_seconds)],
      ['P50 首次实质解答', fmt.minutes(s.p50_substantive_seconds)],
      ['首次回复仅为确认收到', fmt.rate(s.acknowledgement_first_rate) + '（' + s.acknowledgement_first + '）'],
      ['首次回复为追问澄清', fmt.int(s.clarification_first)],
      ['超时升级次数', fmt.int(s.escalations_by_window)],
      ['升级延迟 P50', fmt.seconds(s.lateness_p50_seconds)],
      ['升级延迟 P99', fmt.seconds(s.lateness_p99_seconds)],
      ['升级延迟最大', fmt.seconds(s.lateness_max_seconds)],
    ];
    $('honest').replaceChildren(...honest.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  }

  function chart(id, option) {
    const box = $(id);
    if (!window.echarts) { box.replaceChildren(el('p', { class: 'nochart' }, '图表组件未加载（请运行 make run 安装 ECharts）')); return; }
    if (!charts[id]) charts[id] = window.echarts.init(box);
    charts[id].setOption(option, true);
  }

  function renderDaily(rows) {
    chart('chart-daily', {
      tooltip: { trigger: 'axis' }, legend: { top: 0, data: ['提问', '已解答', '升级', '平均首次响应（分钟）'] },
      grid: { left: 40, right: 50, top: 48, bottom: 30 },
      xAxis: { type: 'category', data: rows.map((r) => r.date) },
      yAxis: [{ type: 'value', name: '件' }, { type: 'value', name: '分钟' }],
      series: [
        { name: '提问', type: 'bar', data: rows.map((r) => r.questions) },
        { name: '已解答', type: 'bar', data: rows.map((r) => r.answered) },
        { name: '升级', type: 'bar', data: rows.map((r) => r.escalated) },
        { name: '平均首次响应（分钟）', type: 'line', yAxisIndex: 1, data: rows.map((r) => (r.avg_response_seconds === null ? null : +(r.avg_response_seconds / 60).toFixed(1))) },
      ],
    });
  }

  function renderCategories(rows) {
    const shown = rows.filter((r) => r.count > 0).reverse();
    chart('chart-categories', {
      tooltip: {}, grid: { left: 80, right: 30, top: 10, bottom: 20 },
      xAxis: { type: 'value' }, yAxis: { type: 'category', data: shown.map((r) => r.name) },
      series: [{ type: 'bar', data: shown.map((r) => r.count), label: { show: true, position: 'right' } }],
    });
  }

  const BANDS = [[0, 60, '1分钟内'], [60, 180, '1–3分钟'], [180, 300, '3–5分钟'], [300, 600, '5–10分钟'],
    [600, 900, '10–15分钟'], [900, 1800, '15–30分钟'], [1800, 3600, '30–60分钟'], [3600, Infinity, '1小时以上']];

  function renderHistogram(h) {
    const counts = BANDS.map(([lo, hi]) => h.buckets.filter((b) => b.from_seconds >= lo && b.from_seconds < hi).reduce((a, b) => a + b.count, 0));
    chart('chart-histogram', {
      tooltip: {}, grid: { left: 40, right: 10, top: 10, bottom: 40 },
      xAxis: { type: 'category', data: BANDS.map((b) => b[2]), axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: 'value' },
      series: [{ type: 'bar', data: counts.map((c, i) => ({ value: c, itemStyle: { color: BANDS[i][0] >= h.window_seconds ? '#b54708' : '#2e90fa' } })) }],
    });
  }

  function renderLevels(rows) {
    chart('chart-levels', {
      tooltip: { formatter: '{b}: {c} ({d}%)' },
      series: [{ type: 'pie', radius: ['35%', '65%'], data: rows.map((r) => ({ name: r.level + ' 级', value: r.count })) }],
    });
  }

  // the reform's goal: 90% resolved at street level or below (A+B) — overall and per place
  function goalText(share, goal) {
    if (share === null || share === undefined) return '—';
    return fmt.rate(share) + (share >= goal ? ' 达标' : ' 未达标');
  }

  function renderGoal(b) {
    const t = b.total;
    const node = $('levels-goal');
    node.className = 'goal ' + (t.ab_share === null ? '' : t.meets_goal ? 'met' : 'missed');
    node.textContent = '街道及以下解决（A+B）占比 ' + goalText(t.ab_share, b.goal_ab_share) +
      '（目标 ' + fmt.rate(b.goal_ab_share) + '，已解决 ' + t.resolved + ' 件）';
  }

  function childLevel() {
    const last = state.place[state.place.length - 1];
    return !last ? 'district' : last.level === 'district' ? 'street' : 'community';
  }

  function table(id, headers, rows) {
    const head = el('tr', {}, ...headers.map((h) => el('th', { class: h.text ? 'text' : '' }, h.label)));
    const body = rows.length ? rows : [el('tr', {}, el('td', { colSpan: headers.length, class: 'text muted' }, '暂无数据'))];
    $(id).replaceChildren(el('thead', {}, head), el('tbody', {}, ...body));
  }

  const LEVEL_NAMES = { district: '区', street: '街道', community: '社区' };

  function renderPlaces(p, b) {
    $('places-title').textContent = '各' + LEVEL_NAMES[p.level] + '情况';
    const ab = {};
    for (const r of (b && b.by === p.level ? b.rows : [])) ab[r[p.level + '_id']] = r;
    const abCell = (x) => {
      const r = ab[x.id];
      if (!r || r.ab_share === null) return el('td', {}, '—');
      return el('td', { class: r.meets_goal ? 'met' : 'missed', title: 'A ' + r.levels.A + ' / B ' + r.levels.B + ' / C ' + r.levels.C + ' / D ' + r.levels.D }, goalText(r.ab_share, b.goal_ab_share));
    };
    table('places', [
      { label: LEVEL_NAMES[p.level], text: true }, { label: '提问' }, { label: '解答率' }, { label: '平均首次响应' },
      { label: '时限内响应率' }, { label: '升级率' }, { label: '采纳率' }, { label: '满意度' }, { label: '仅确认收到占比' },
      { label: 'A+B 占比（目标 90%）' },
    ], p.items.map((x) => el('tr', { 'data-place': x.id },
      el('td', { class: 'text' }, el('button', { class: 'drill', type: 'button', onclick: () => drill(x.level, x.id, x.name) }, x.name)),
      el('td', {}, fmt.int(x.questions)), el('td', {}, fmt.rate(x.response_rate)), el('td', {}, fmt.minutes(x.avg_response_seconds)),
      el('td', {}, fmt.rate(x.within_sla_rate)), el('td', {}, fmt.rate(x.escalation_rate)), el('td', {}, fmt.rate(x.adoption_rate)),
      el('td', {}, fmt.rate(x.satisfaction_rate)), el('td', {}, fmt.rate(x.acknowledgement_first_rate)), abCell(x))));
  }

  function renderLawyers(rows) {
    table('lawyers', [
      { label: '排名', text: true }, { label: '律师', text: true }, { label: '分配' }, { label: '解答' }, { label: '响应率' },
      { label: '完成率' }, { label: '满意度' }, { label: '平均首次响应' }, { label: '得分' },
    ], rows.map((r, i) => el('tr', { 'data-lawyer': r.lawyer_id },
      el('td', { class: 'text' }, String(i + 1)), el('td', { class: 'text' }, r.name || '#' + r.lawyer_id),
      el('td', {}, fmt.int(r.assigned)), el('td', {}, fmt.int(r.answered)), el('td', {}, fmt.rate(r.response_rate)),
      el('td', {}, fmt.rate(r.completion_rate)), el('td', {}, fmt.rate(r.satisfaction_rate)),
      el('td', {}, fmt.minutes(r.avg_response_seconds)), el('td', {}, fmt.score(r.score)))));
  }

  function waited(iso) {
    const minutes = Math.max(0, (Date.now() - new Date(iso).getTime()) / 60000);
    return minutes < 60 ? minutes.toFixed(0) + ' 分钟' : (minutes / 60).toFixed(1) + ' 小时';
  }

  function renderEscalations(rows) {
    table('escalations', [
      { label: '问题', text: true }, { label: '地点', text: true }, { label: '类别', text: true }, { label: '状态', text: true },
      { label: '升级时间', text: true }, { label: '已等待' }, { label: '服务团', text: true }, { label: '认领律师', text: true },
    ], rows.map((r) => el('tr', { class: r.alerted_at ? 'alerted' : '', 'data-question': r.id },
      el('td', { class: 'text' }, '#' + r.id + (r.alerted_at ? ' 已告警' : '')),
      el('td', { class: 'text' }, [r.district_name, r.street_name, r.community_name].join(' / ')),
      el('td', { class: 'text' }, r.category_name), el('td', { class: 'text' }, r.status === 'claimed' ? '已认领' : '待认领'),
      el('td', { class: 'text' }, fmt.time(r.escalated_at)), el('td', {}, waited(r.escalated_at)),
      el('td', { class: 'text' }, r.pool_name || '—'), el('td', { class: 'text' }, r.assigned_lawyer_name || '—'))));
  }

  const RESULTS = { resolved: '已解决', explained: '已解释', referred: '已转办', unreachable: '联系不上', other: '其他' };

  function callbackActions(r) {
    if (r.status === 'done') return el('span', {}, RESULTS[r.result] || r.result);
    const select = el('select', { 'aria-label': '回访结果' }, ...Object.entries(RESULTS).map(([v, t]) => el('option', { value: v }, t)));
    const note = el('input', { placeholder: '回访情况', maxLength: 2000 });
    const done = el('button', { type: 'button', onclick: () => act('/callbacks/' + r.id + '/outcome', { result: select.value, outcome: note.value || null }) }, '记录');
    const take = r.status === 'open' ? el('button', { type: 'button', onclick: () => act('/callbacks/' + r.id + '/assign', {}) }, '认领') : '';
    return el('span', { class: 'callback-form' }, take, select, note, done);
  }

  function renderCallbacks(rows) {
    table('callbacks', [
      { label: '问题', text: true }, { label: '地点', text: true }, { label: '评分' }, { label: '评价', text: true },
      { label: '解答律师', text: true }, { label: '状态', text: true }, { label: '操作', text: true },
    ], rows.map((r) => el('tr', { 'data-callback': r.id },
      el('td', { class: 'text' }, '#' + r.question_id + ' ' + r.category_name),
      el('td', { class: 'text' }, [r.district_name, r.street_name, r.community_name].join(' / ')),
      el('td', {}, String(r.rating)), el('td', { class: 'text' }, r.rating_comment || '—'),
      el('td', { class: 'text' }, r.first_answered_by_name || '—'),
      el('td', { class: 'text' }, { open: '待认领', assigned: '回访中', done: '已完成' }[r.status]),
      el('td', { class: 'text' }, callbackActions(r)))));
  }

  async function act(path, body) {
    try {
      await call(path, {}, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      await loadSide();
    } catch (e) { status(e.message); }
  }

  function renderCrumbs() {
    const parts = [el('button', { type: 'button', onclick: () => { state.place = []; load(); } }, '全市')];
    state.place.forEach((step, i) => {
      parts.push(el('span', { class: 'sep' }, '›'));
      parts.push(el('button', { type: 'button', 'data-level': step.level, onclick: () => { state.place = state.place.slice(0, i + 1); load(); } }, step.name));
    });
    $('crumbs').replaceChildren(...parts);
  }

  function drill(level, id, name) {
    if (state.place.length && state.place[state.place.length - 1].level === level) return;
    state.place.push({ level, id, name });
    load();
  }

  // --- loading ----------------------------------------------------------------------------------

  async function loadSide() {
    const place = filters({ from: undefined, to: undefined, category: undefined });
    const [esc, cbs, s] = await Promise.all([
      getJSON('/bureau/open-escalations', place),
      getJSON('/callbacks', Object.assign({ status: 'open' }, place)),
      getJSON('/metrics/summary', filters()),
    ]);
    renderEscalations(esc);
    renderCallbacks(cbs);
    const card = document.querySelector('[data-kpi="open_callbacks"] .value');
    if (card) { card.textContent = fmt.int(s.open_callbacks); card.parentElement.setAttribute('data-value', String(s.open_callbacks)); }
  }

  async function load() {
    state.from = $('from').value; state.to = $('to').value; state.category = $('category').value;
    renderCrumbs();
    status('加载中…');
    document.body.setAttribute('data-loading', '1');
    try {
      const f = filters();
      const today = localDate(0);
      const [s, t, daily, cats, hist, levels, places, lawyers, goal] = await Promise.all([
        getJSON('/metrics/summary', f),
        getJSON('/metrics/summary', filters({ from: today, to: today })),
        getJSON('/metrics/daily', f), getJSON('/metrics/categories', f), getJSON('/metrics/histogram', f),
        getJSON('/metrics/levels', f), getJSON('/metrics/places', f), getJSON('/metrics/lawyers', f),
        getJSON('/metrics/levels/breakdown', filters({ by: childLevel() })),
      ]);
      renderKpis(s, t);
      renderDaily(daily); renderCategories(cats); renderHistogram(hist); renderLevels(levels); renderGoal(goal);
      renderPlaces(places, goal); renderLawyers(lawyers);
      await loadSide();
      status(s.filters.from + ' 至 ' + s.filters.to + '（北京时间）');
    } catch (e) {
      status(e.message);
    } finally {
      document.body.removeAttribute('data-loading');
      document.body.setAttribute('data-loaded', String(Date.now()));
    }
  }

  async function exportCsv() {
    try {
      status('正在导出…');
      const resp = await call('/exports/questions.csv', filters());
      const blob = await resp.blob();
      const a = el('a', { href: URL.createObjectURL(blob), download: '法指针台账-' + state.from + '-' + state.to + '.csv' });
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      status('台账已导出');
    } catch (e) { status(e.message); }
  }

  // Live escalations and alerts, if the server offers the bureau stream: fetch keeps the token in a header.
  async function subscribe() {
    if (streamAbort) streamAbort.abort();
    streamAbort = new AbortController();
    try {
      const resp = await fetch(API + '/bureau/stream', { headers: { Authorization: 'Bearer ' + state.token, Accept: 'text/event-stream' }, signal: streamAbort.signal });
      if (!resp.ok || !resp.body) return;
      const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      let pending = null;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        if (buffer.includes('\n\n')) {
          buffer = buffer.slice(buffer.lastIndexOf('\n\n') + 2);
          clearTimeout(pending);
          pending = setTimeout(() => loadSide().catch(() => {}), 500);
        }
      }
    } catch (e) { /* stream absent or closed: the tables still refresh with every query */ }
  }

  async function start() {
    $('login').hidden = true; $('app').hidden = false;
    if (!$('from').value) { $('from').value = localDate(29); $('to').value = localDate(0); }
    if ($('category').options.length === 1) {
      const cats = await (await fetch(API + '/categories')).json();
      for (const c of cats) $('category').append(el('option', { value: c.code }, c.name));
    }
    await load();
    subscribe();
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', (ev) => { login(ev).catch((e) => { $('login-error').textContent = e.message; }); });
    $('apply').addEventListener('click', load);
    $('logout').addEventListener('click', logout);
    $('export-csv').addEventListener('click', exportCsv);
    for (const b of document.querySelectorAll('.quick button')) {
      b.addEventListener('click', () => { $('from').value = localDate(Number(b.dataset.days) - 1); $('to').value = localDate(0); load(); });
    }
    window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));
    if (state.token) start(); else showLogin();
  });
})();
