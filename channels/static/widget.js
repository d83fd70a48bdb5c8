// kanal's web-chat widget: plain JS, no build step.
//
// It opens a chat session, posts the citizen's messages and shows every reply. Agent replies
// arrive without a reload over the server-sent event stream, read with fetch() because
// EventSource cannot send the session's bearer token; when streaming is impossible it polls.
//
// Its own words are English message ids, translated by the server's catalogues: the page
// embeds them for the page's language (#kchat-texts), and when kanal answers that the
// conversation is held in another language, the widget fetches that language's words
// (GET {api}/texts/{language}) and follows it.
(function () {
  "use strict";

  var root = document.getElementById("kanal-chat");
  if (!root) return;

  var API = root.getAttribute("data-api") || "/api/v1/chat";
  // The stream process's origin (`kanal streams`, KANAL_STREAM_URL); empty: this page's own,
  // where a proxy routes the stream URLs to it.
  var STREAM = root.getAttribute("data-stream") || "";
  var STORE = "kanal-chat-session";
  var POLL_MS = 3000;
  var RETRY_MS = 2000;

  var log = document.getElementById("kchat-log");
  var list = document.getElementById("kchat-list");
  var form = document.getElementById("kchat-form");
  var text = document.getElementById("kchat-text");
  var send = document.getElementById("kchat-send");
  var stateLine = document.getElementById("kchat-state");
  var errorLine = document.getElementById("kchat-error");
  var newButton = document.getElementById("kchat-new");
  // Said while a message's answer is slow to come (the bot busy with others): the citizen
  // knows it was received and the answer is on its way.
  var WAIT_SAID_AFTER_MS = 1000;
  var waitLine = document.getElementById("kchat-wait");
  if (!waitLine) {
    waitLine = document.createElement("p");
    waitLine.id = "kchat-wait";
    waitLine.className = "kchat-wait";
    waitLine.setAttribute("role", "status");
    log.parentNode.insertBefore(waitLine, log.nextSibling);
  }
  var identity = document.getElementById("kchat-identity");
  var surveyBox = null;  // the satisfaction question, shown once the conversation has ended

  // A message id marked for extraction (pybabel), translated where it is shown.
  function N_(msgid) { return msgid; }
  var texts = {};
  try { texts = JSON.parse(document.getElementById("kchat-texts").textContent) || {}; } catch (e) { texts = {}; }
  var language = root.getAttribute("data-language") || "en";
  // The citizen chose the language on the page (?lang=): the widget keeps it, and a new
  // conversation starts in it. Otherwise the widget follows the conversation's language.
  var chosen = root.getAttribute("data-chosen") === "true";
  function gettext(msgid) { return texts[msgid] || msgid; }

  var STATE_WORDS = {
    "new": N_("Write a message to start."),
    bot: N_("You are chatting with our digital assistant. Write \u201cperson\u201d at any time to talk to a person."),
    queued: N_("Waiting for a person. They will see everything you have written; you can keep writing."),
    assigned: N_("You are chatting with a person."),
    closed: N_("This conversation has ended. You can start a new one.")
  };
  var AUTHOR_WORDS = {
    citizen: N_("You"), bot: N_("Assistant"), agent: N_("Advisor"), system: N_("Service")
  };
  // The widget's own labels, shown again in the conversation's language when it changes.
  var LABELS = {
    "kchat-title": N_("Chat"),
    "kchat-send": N_("Send"),
    "kchat-keys": N_("Enter sends, Shift+Enter starts a new line."),
    "kchat-new": N_("Start a new conversation")
  };
  var TEXT_LABEL = N_("Your message");
  var SURVEY_FAILED = N_("Your answer was not saved. Please try again.");
  var SEND_ID = "kchat-send";

  var session = null;   // {id, token}
  var lastId = 0;
  var state = "new";
  var generation = 0;   // bumps on a new conversation so old streams stop
  var sending = false;

  // -- rendering ------------------------------------------------------------------------

  function setState(next) {
    if (!next || next === state) return;
    state = next;
    stateLine.setAttribute("data-state", state);
    stateLine.textContent = STATE_WORDS[state] ? gettext(STATE_WORDS[state]) : state;
    root.setAttribute("data-state", state);
    var closed = state === "closed";
    text.disabled = closed;
    send.disabled = closed;
    // Leaving a conversation a person is about to answer would strand them: offer a new
    // one only while the assistant is talking or when this one has ended.
    newButton.hidden = state === "queued" || state === "assigned";
    if (closed) askSurvey(generation);
  }

  // -- the satisfaction question, after the conversation has ended -----------------------
  //
  // One question on GOV.UK's 5-point scale, as five buttons that say their answer in words
  // (never colour alone), in a group named by the question. kanal decides whether this
  // conversation is asked (a share of them) and words it in the conversation's language.

  function clearSurvey() {
    if (surveyBox && surveyBox.parentNode) surveyBox.parentNode.removeChild(surveyBox);
    surveyBox = null;
  }

  function askSurvey(gen) {
    if (!session || surveyBox) return;
    surveyBox = document.createElement("section");
    surveyBox.className = "kchat-survey";
    surveyBox.id = "kchat-survey";
    surveyBox.hidden = true;
    form.parentNode.insertBefore(surveyBox, form);
    api("GET", "/sessions/" + encodeURIComponent(session.id) + "/survey")
      .then(function (data) { if (gen === generation) showSurvey(data); })
      .catch(function () { /* no question: the conversation has ended all the same */ });
  }

  function showSurvey(data) {
    if (!surveyBox) return;
    while (surveyBox.firstChild) surveyBox.removeChild(surveyBox.firstChild);
    if (data.state === "answered" || data.state === "declined") {
      var thanks = document.createElement("p");
      thanks.className = "kchat-survey-thanks";
      thanks.setAttribute("role", "status");
      thanks.textContent = data.thanks || "";
      surveyBox.appendChild(thanks);
      surveyBox.hidden = false;
      return;
    }
    if (data.state !== "asked") return;
    var question = document.createElement("h3");
    question.id = "kchat-survey-q";
    question.textContent = data.question;
    var group = document.createElement("div");
    group.className = "kchat-survey-options";
    group.setAttribute("role", "group");
    group.setAttribute("aria-labelledby", "kchat-survey-q");
    (data.options || []).forEach(function (option) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "kchat-survey-option";
      button.setAttribute("data-score", String(option.score));
      button.textContent = option.label;
      button.addEventListener("click", function () { answerSurvey(option.score); });
      group.appendChild(button);
    });
    var decline = document.createElement("button");
    decline.type = "button";
    decline.className = "kchat-secondary kchat-survey-decline";
    decline.textContent = data.decline;
    decline.addEventListener("click", function () { answerSurvey(null); });
    surveyBox.setAttribute("aria-labelledby", "kchat-survey-q");
    surveyBox.appendChild(question);
    surveyBox.appendChild(group);
    surveyBox.appendChild(decline);
    surveyBox.hidden = false;
  }

  function answerSurvey(score) {
    if (!session || !surveyBox) return;
    Array.prototype.forEach.call(surveyBox.querySelectorAll("button"), function (b) { b.disabled = true; });
    var gen = generation;
    api("POST", "/sessions/" + encodeURIComponent(session.id) + "/survey", { score: score })
      .then(function (data) {
        if (gen !== generation) return;
        showSurvey(data);
        newButton.focus();
      })
      .catch(function (err) {
        if (err.status === 409) {  // answered before (another tab): show where it stands
          return api("GET", "/sessions/" + encodeURIComponent(session.id) + "/survey").then(showSurvey);
        }
        Array.prototype.forEach.call(surveyBox.querySelectorAll("button"), function (b) { b.disabled = false; });
        showError(gettext(SURVEY_FAILED));
      });
  }

  function showError(message) {
    errorLine.textContent = message || "";
  }

  // Times in the agency's time zone (data-timezone), 24-hour as the desk shows them: 14:43.
  var zone = root.getAttribute("data-timezone") || undefined;
  function timeOf(iso) {
    var at = new Date(iso);
    if (isNaN(at.getTime())) return "";
    var options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone };
    var parts;
    try { parts = new Intl.DateTimeFormat(language, options).formatToParts(at); } catch (e) {
      delete options.timeZone;  // an unknown zone: the browser's own
      parts = new Intl.DateTimeFormat(language, options).formatToParts(at);
    }
    var hour = "", minute = "";
    parts.forEach(function (p) { if (p.type === "hour") hour = p.value; if (p.type === "minute") minute = p.value; });
    return hour + ":" + minute;
  }

  // A message's text with its http(s) links clickable, built as DOM nodes: never as HTML.
  var LINK = /https?:\/\/[^\s<>"']+/gi;
  var TRAILING = ".,;:!?)]}'\"";
  function linked(parent, text) {
    var at = 0;
    text = String(text);
    text.replace(LINK, function (url, start) {
      while (url && TRAILING.indexOf(url.charAt(url.length - 1)) !== -1) {
        var last = url.charAt(url.length - 1);
        if (last === ")" && url.split("(").length >= url.split(")").length) break;
        url = url.slice(0, -1);
      }
      if (start > at) parent.appendChild(document.createTextNode(text.slice(at, start)));
      var a = document.createElement("a");
      a.href = url;
      a.rel = "noopener noreferrer nofollow";
      a.target = "_blank";
      a.textContent = url;
      parent.appendChild(a);
      at = start + url.length;
      return url;
    });
    if (at < text.length) parent.appendChild(document.createTextNode(text.slice(at)));
    return parent;
  }

  function addMessage(m) {
    if (document.getElementById("kchat-m" + m.id)) return;
    var li = document.createElement("li");
    li.id = "kchat-m" + m.id;
    li.className = "kchat-msg kchat-" + m.author;
    li.setAttribute("data-id", String(m.id));
    var who = document.createElement("span");
    who.className = "kchat-who";
    who.setAttribute("data-author", m.author);
    who.textContent = (AUTHOR_WORDS[m.author] ? gettext(AUTHOR_WORDS[m.author]) : m.author) + ": ";
    var body = document.createElement("span");
    body.className = "kchat-text";
    linked(body, m.text);
    var at = document.createElement("time");
    at.className = "kchat-time";
    at.dateTime = m.at;
    at.textContent = timeOf(m.at);
    li.appendChild(who);
    li.appendChild(body);
    li.appendChild(at);
    // Keep the transcript in the order the server gave the messages, whatever arrived first.
    var next = null;
    for (var i = 0; i < list.children.length; i++) {
      if (Number(list.children[i].getAttribute("data-id")) > m.id) { next = list.children[i]; break; }
    }
    list.insertBefore(li, next);
    if (m.id > lastId) lastId = m.id;
    log.scrollTop = log.scrollHeight;
  }

  function take(data) {
    (data.messages || []).forEach(addMessage);
    if (data.state) setState(data.state);
    if (data.language) follow(data.language);
  }

  // -- the conversation's language --------------------------------------------------------

  function relabel() {
    root.setAttribute("lang", language);
    root.setAttribute("data-language", language);
    Object.keys(LABELS).forEach(function (id) {
      var el = document.getElementById(id);
      if (el && !(id === SEND_ID && sending)) el.textContent = gettext(LABELS[id]);
    });
    var label = form.querySelector("label[for=kchat-text]");
    if (label) label.textContent = gettext(TEXT_LABEL);
    stateLine.textContent = STATE_WORDS[state] ? gettext(STATE_WORDS[state]) : state;
    Array.prototype.forEach.call(list.querySelectorAll(".kchat-who"), function (who) {
      var author = who.getAttribute("data-author");
      who.textContent = (AUTHOR_WORDS[author] ? gettext(AUTHOR_WORDS[author]) : author) + ": ";
    });
  }

  function follow(next) {
    if (chosen || !next || next === language) return;
    fetch(API + "/texts/" + encodeURIComponent(next), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || !data.texts || data.language !== next) return;
        texts = data.texts;
        language = next;
        relabel();
      })
      .catch(function () { /* the widget keeps the words it has */ });
  }

  // -- the API --------------------------------------------------------------------------

  function headers() {
    var h = { "Content-Type": "application/json", Accept: "application/json" };
    if (session) h.Authorization = "Bearer " + session.token;
    return h;
  }

  function api(method, path, body) {
    return fetch(API + path, {
      method: method,
      headers: headers(),
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var err = new Error(data.error || gettext("Something went wrong.") + " (" + r.status + ")");
          err.status = r.status;
          throw err;
        }
        return data;
      });
    });
  }

  function save() {
    try {
      if (session) sessionStorage.setItem(STORE, JSON.stringify(session));
      else sessionStorage.removeItem(STORE);
    } catch (e) { /* private mode: the chat still works, it just does not survive a reload */ }
  }

  function startSession() {
    var body = {};
    if (identity && identity.value) body.identity = identity.value;
    if (chosen) body.language = language;
    return api("POST", "/sessions", body).then(function (data) {
      session = { id: data.session_id, token: data.token };
      save();
      setState("bot");
      listen(generation);
      return session;
    });
  }

  function clientId() {
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  }

  function post(message) {
    var ready = session ? Promise.resolve(session) : startSession();
    return ready.then(function (s) {
      return api("POST", "/sessions/" + encodeURIComponent(s.id) + "/messages",
        { text: message, client_id: clientId() });
    }).then(take);
  }

  // -- push: the stream, read with fetch; polling when that is impossible ---------------

  function listen(gen) {
    if (!session || gen !== generation) return;
    if (!window.ReadableStream || !window.TextDecoder) { poll(gen); return; }
    var url = STREAM + API + "/sessions/" + encodeURIComponent(session.id) + "/stream?after=" + lastId;
    fetch(url, { headers: { Authorization: "Bearer " + session.token, Accept: "text/event-stream" } })
      .then(function (r) {
        if (r.status === 401 || r.status === 404) { forget(); return; }
        if (!r.ok || !r.body || !r.body.getReader) throw new Error("no stream");
        return read(r.body.getReader(), gen).then(function () {
          if (gen === generation && state !== "closed") setTimeout(function () { listen(gen); }, 500);
        });
      })
      .catch(function () {
        if (gen === generation && state !== "closed") poll(gen);
      });
  }

  function read(reader, gen) {
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      if (gen !== generation) { reader.cancel(); return Promise.resolve(); }
      return reader.read().then(function (chunk) {
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
        var end;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        return pump();
      });
    }
    return pump();
  }

  function dispatch(block) {
    var event = "message";
    var data = [];
    block.split("\n").forEach(function (line) {
      if (line.indexOf("event:") === 0) event = line.slice(6).trim();
      else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
    });
    if (!data.length) return;
    var payload;
    try { payload = JSON.parse(data.join("\n")); } catch (e) { return; }
    if (event === "message") addMessage(payload);
    else if (event === "state") { setState(payload.state); follow(payload.language); }
  }

  function poll(gen) {
    if (!session || gen !== generation || state === "closed") return;
    api("GET", "/sessions/" + encodeURIComponent(session.id) + "/messages?after=" + lastId)
      .then(take)
      .catch(function (err) { if (err.status === 401 || err.status === 404) forget(); })
      .then(function () { setTimeout(function () { poll(gen); }, POLL_MS); });
  }

  // -- conversation lifecycle -----------------------------------------------------------

  function forget() {
    generation += 1;
    clearSurvey();
    session = null;
    lastId = 0;
    save();
    while (list.firstChild) list.removeChild(list.firstChild);
    state = "";
    setState("new");
  }

  function resume() {
    var stored = null;
    try { stored = JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch (e) { stored = null; }
    if (!stored || !stored.id || !stored.token) return;
    session = stored;
    api("GET", "/sessions/" + encodeURIComponent(session.id) + "/messages?after=0")
      .then(function (data) {
        take(data);
        if (state !== "closed") listen(generation);
      })
      .catch(function () { forget(); });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var message = text.value.trim();
    if (!message) { showError(gettext("Write a message first.")); text.focus(); return; }
    if (message.length > 2000) { showError(gettext("Your message is longer than 2,000 characters.")); return; }
    if (sending) return;
    sending = true;
    send.disabled = true;
    send.textContent = gettext("Sending\u2026");
    showError("");
    var slow = setTimeout(function () {
      waitLine.textContent = gettext("Your message was received. The answer is on its way\u2026");
    }, WAIT_SAID_AFTER_MS);
    post(message).then(function () {
      text.value = "";
    }).catch(function (err) {
      if (err.status === 409) setState("closed");
      // The API's own errors are for developers; the citizen reads the widget's words.
      var said = err.status === 409 ? gettext(STATE_WORDS.closed)
        : err.status && err.status < 500 ? err.message
        : gettext("Your message was not sent. Please try again.");
      showError(said);
    }).then(function () {
      clearTimeout(slow);
      waitLine.textContent = "";
      sending = false;
      send.textContent = gettext(LABELS[SEND_ID]);
      send.disabled = state === "closed";
      if (state !== "closed") text.focus();
      else newButton.focus();
    });
  });

  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  newButton.addEventListener("click", function () {
    forget();
    showError("");
    text.focus();
  });

  setState("new");
  stateLine.textContent = gettext(STATE_WORDS[state]);
  resume();
})();
