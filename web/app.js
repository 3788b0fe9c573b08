// The dschat page: one WebSocket to /ws on the page's own host, one text message per chat line
// (docs/protocol.md). Every line is rendered with textContent, never as HTML: the server makes control
// characters safe for a terminal, not markup for a browser.
'use strict';

(() => {
  const MIN_DELAY_MS = 1000;
  const MAX_DELAY_MS = 30000;
  const MAX_LINES = 2000;     // older lines are dropped from the page
  const MAX_WHO_PAGES = 20;   // pages of /who fetched for the online list (50 names each)

  const log = document.getElementById('log');
  const conversation = log.parentElement;
  const status = document.getElementById('status');
  const meLabel = document.getElementById('me');
  const onlineCount = document.getElementById('online-count');
  const onlineList = document.getElementById('online-list');
  const form = document.getElementById('send');
  const input = document.getElementById('line');

  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';

  let socket = null;
  let delay = MIN_DELAY_MS;
  let reconnectTimer = 0;
  let myName = '';
  let quitting = false;      // the user sent /quit: do not reconnect until they send again
  // The room password the user gave with /pass, kept in memory only (never stored): sent again by itself
  // when a reconnection asks for it. Forgotten when the server says it is wrong.
  let password = null;
  // The name the user chose with /nick, once the server took it: asked for again by itself after a
  // reconnection, whose welcome gives a guest name (the server says whether it is free).
  let chosenName = null;
  // /who answers the page asked for itself update the online list and are not shown.
  let whoPending = 0;        // answers still to come for the page's own /who requests
  let whoAgain = false;      // someone joined or left while a /who was under way
  let whoNames = [];         // names gathered from the pages of the answer so far
  let currentNames = [];     // the online list as shown
  let currentTotal = 0;      // how many are online, as the last answer said

  function clock() {
    return new Date().toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'});
  }

  function span(className, text) {
    const element = document.createElement('span');
    element.className = className;
    element.textContent = text;
    return element;
  }

  // Appends one line to the conversation; parts are [className, text] pairs.
  function append(kind, parts) {
    const atBottom = conversation.scrollHeight - conversation.scrollTop - conversation.clientHeight < 48;
    const item = document.createElement('li');
    item.className = 'entry ' + kind;
    item.append(span('time', clock()));
    for (const [className, text] of parts) item.append(span(className, text));
    log.append(item);
    while (log.childElementCount > MAX_LINES) log.firstElementChild.remove();
    if (atBottom) conversation.scrollTop = conversation.scrollHeight;
  }

  // A line from the server, styled by its prefix: "* " notice, "! " error, "<name> " chat line.
  function show(line) {
    const chat = /^<([^>\s]+)> ([\s\S]*)$/.exec(line);
    if (chat) {
      const mention = myName !== '' && chat[1] !== myName && chat[2].includes(myName);
      append(mention ? 'chat mention' : 'chat', [['name', chat[1]], ['text', chat[2]]]);
    } else if (line.startsWith('* ')) {
      append('notice', [['text', line]]);
    } else if (line.startsWith('! ')) {
      append('error', [['text', line]]);
    } else {
      append('plain', [['text', line]]);
    }
  }

  // A note from the page itself, not from the server.
  function note(text) {
    append('local', [['text', text]]);
  }

  function setMe(name) {
    myName = name;
    meLabel.textContent = name;
    renderOnline(currentNames);
  }

  function renderOnline(names, total = currentTotal) {
    currentNames = names;
    currentTotal = total;
    onlineCount.textContent = total > names.length ? `${total} online (${names.length} shown)` : `${total} online`;
    const items = names.map((name) => {
      const item = document.createElement('li');
      item.textContent = name;
      if (name === myName) item.className = 'self';
      return item;
    });
    onlineList.replaceChildren(...items);
  }

  function send(text) {
    if (socket === null || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(text);
    return true;
  }

  function requestWho() {
    if (whoPending > 0) {
      whoAgain = true;
      return;
    }
    whoNames = [];
    if (send('/who')) whoPending = 1;
  }

  function finishWho(total) {
    renderOnline(whoNames, total);
    onlineList.classList.remove('stale');
    if (whoAgain) {
      whoAgain = false;
      requestWho();
    }
  }

  // "* N online: a, b" or "* N online, page P of M: a, b — /who P+1 for more": true when it was the
  // answer to the page's own request (then it is not shown).
  function takeWho(line) {
    const who = /^\* (\d+) online(?:, page (\d+) of (\d+))?: (.*)$/.exec(line);
    if (who === null) {
      if (whoPending > 0 && line.startsWith('! no page ')) {  // the room shrank between two pages
        whoPending -= 1;
        finishWho(whoNames.length);
        return true;
      }
      return false;
    }
    const total = Number(who[1]);
    const page = who[2] ? Number(who[2]) : 1;
    const pages = who[3] ? Number(who[3]) : 1;
    const names = who[4].replace(/ — \/who \d+ for more$/, '').split(', ').filter((name) => name !== '');
    if (whoPending === 0) {  // the user's own /who: shown, and the list is updated when it is whole
      if (pages === 1) renderOnline(names, total);
      return false;
    }
    whoPending -= 1;
    whoNames.push(...names);
    if (page < pages && page < MAX_WHO_PAGES && send(`/who ${page + 1}`)) {
      whoPending += 1;
    } else {
      finishWho(total);
    }
    return true;
  }

  function receive(line) {
    if (takeWho(line)) return;
    if (line.startsWith('* password required') && password !== null) {
      send(`/pass ${password}`);
      return;
    }
    if (line.startsWith('! wrong password')) password = null;
    let match;
    if ((match = /^\* welcome (\S+) — /.exec(line))) {
      setMe(match[1]);
      delay = MIN_DELAY_MS;
      status.textContent = 'connected';
      requestWho();
      if (chosenName !== null && chosenName !== myName) {
        show(line);
        // Shown as if typed; its answer is shown as it comes: "is now", or why not (name taken…).
        const command = `/nick ${chosenName}`;
        if (send(command)) echo(command);
        return;
      }
    } else if ((match = /^\* (\S+) is now (\S+)$/.exec(line))) {
      if (match[1] === myName) {
        setMe(match[2]);
        chosenName = match[2];
      }
      requestWho();
    } else if (/^\* \S+ (joined|left)( \(.*\))?$/.test(line)) {
      requestWho();
    }
    show(line);
  }

  function connect() {
    clearTimeout(reconnectTimer);
    quitting = false;
    status.textContent = 'connecting…';
    const ws = new WebSocket(url);
    socket = ws;
    ws.onmessage = (event) => {
      // One message is one line; split anyway, in case one ever holds several.
      for (const line of String(event.data).split('\n')) {
        if (line !== '') receive(line);
      }
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      whoPending = 0;
      whoAgain = false;
      onlineList.classList.add('stale');
      const why = event.code === 1000 || event.code === 1005 || event.code === 1006 ? '' :
          ` (${event.code}${event.reason ? ' ' + event.reason : ''})`;
      if (quitting) {
        status.textContent = 'left';
        note(`* you left${why} — send a line to come back`);
        return;
      }
      const seconds = Math.round(delay / 1000);
      status.textContent = `reconnecting in ${seconds} s`;
      note(`* disconnected${why} — reconnecting in ${seconds} s`);
      reconnectTimer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    };
  }

  // What the sender sees of its own line: the server relays it to the others only. A password is never
  // shown, not even to its sender.
  function echo(text) {
    if (/^\/pass(\s|$)/i.test(text)) {
      append('command', [['text', '/pass •••']]);
    } else if (text.startsWith('//')) {
      append('chat self', [['name', myName], ['text', text.slice(1)]]);
    } else if (/^\/me /i.test(text)) {
      append('notice self', [['text', `* ${myName} ${text.slice(4)}`]]);
    } else if (text.startsWith('/')) {
      append('command', [['text', text]]);
    } else {
      append('chat self', [['name', myName], ['text', text]]);
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value;
    if (text.trim() === '') return;
    if (socket === null && quitting) {
      connect();  // the text stays in the input until the connection is back
      return;
    }
    if (!send(text)) {
      note('* not connected — your text is kept; press Enter again once connected');
      return;
    }
    if (/^\/quit(\s|$)/i.test(text)) quitting = true;
    const pass = /^\/pass\s+(.*\S)\s*$/i.exec(text);
    if (pass !== null) password = pass[1];
    echo(text);
    input.value = '';
  });

  connect();
})();
