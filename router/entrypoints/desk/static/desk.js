// The agent desk's live parts: the queue refreshes itself and a contact's page shows new
// messages without a reload. Plain JS, no build step; the pages work without it.
//
// Live updates come from the stream process (`kanal streams`): the page follows its stream
// (data-live, with the page's token in data-live-token) and, on each event, reads the JSON
// it shows from the web (data-source). Events: `queue` on the queue page; `message`,
// `state` and `delivery` on a contact's page. When the stream cannot be followed the page
// refreshes on a timer instead.
(function () {
  "use strict";

  var QUEUE_EVERY_MS = 4000;
  var CONVERSATION_EVERY_MS = 2500;

  // The page's own words in its language (a JSON data block the template fills in).
  var texts = {};
  try { texts = JSON.parse(document.getElementById("desk-texts").textContent) || {}; } catch (e) { texts = {}; }
  function say(key, values) {
    var text = texts[key] || key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(values[k])); });
    return text;
  }

  // A message's text with its http(s) links clickable, built as DOM nodes: never as HTML.
  var LINK = /https?:\/\/[^\s<>"']+/gi;
  var TRAILING = ".,;:!?)]}'\"";
  function linked(parent, text) {
    var at = 0;
    String(text).replace(LINK, function (url, start) {
      while (url && TRAILING.indexOf(url.charAt(url.length - 1)) !== -1) {
        var last = url.charAt(url.length - 1);
        if (last === ")" && url.split("(").length >= url.split(")").length) break;
        url = url.slice(0, -1);
      }
      if (start > at) parent.appendChild(document.createTextNode(text.slice(at, start)));
      var a = el("a", { href: url, rel: "noopener noreferrer nofollow", target: "_blank" }, url);
      parent.appendChild(a);
      at = start + url.length;
      return url;
    });
    if (at < text.length) parent.appendChild(document.createTextNode(text.slice(at)));
    return parent;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        var type = r.headers.get("Content-Type") || "";
        if (!r.ok || type.indexOf("application/json") === -1) throw new Error("status " + r.status);
        return r.json();
      });
  }

  // -- the live stream: server-sent events read with fetch (it sends the token) -----------

  function follow(node, onEvent, fallback, lastId) {
    var url = node.getAttribute("data-live");
    var token = node.getAttribute("data-live-token");
    if (!url || !token || !window.ReadableStream || !window.TextDecoder) { fallback(); return; }
    var failures = 0;

    function handle(block) {
      var name = "message", data = null;
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) name = line.slice(6).trim();
        else if (line.indexOf("id:") === 0) lastId = Number(line.slice(3).trim());
        else if (line.indexOf("data:") === 0) data = line.slice(5).trim();
      });
      if (data !== null) onEvent(name);
    }

    function connect() {
      var headers = { Authorization: "Bearer " + token, Accept: "text/event-stream" };
      if (lastId) headers["Last-Event-ID"] = String(lastId);
      fetch(url, { headers: headers, cache: "no-store" }).then(function (r) {
        if (!r.ok || !r.body || !r.body.getReader) throw new Error("status " + r.status);
        failures = 0;
        var reader = r.body.getReader(), decoder = new TextDecoder(), buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) return;
            buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
            var end;
            while ((end = buffer.indexOf("\n\n")) !== -1) {
              handle(buffer.slice(0, end));
              buffer = buffer.slice(end + 2);
            }
            return pump();
          });
        }
        return pump();
      }).then(function () { setTimeout(connect, 500); }, function () {
        failures += 1;
        if (failures >= 3) fallback();
        else setTimeout(connect, 2000);
      });
    }
    connect();
  }

  // Run `refresh` soon, once for a burst of events.
  function debounced(refresh) {
    var waiting = false;
    return function () {
      if (waiting) return;
      waiting = true;
      setTimeout(function () { waiting = false; refresh(false); }, 50);
    };
  }

  // -- the queue ------------------------------------------------------------------------

  function entryRow(e, mine) {
    var tr = el("tr", { "data-contact": String(e.contact_id) });
    tr.appendChild(el("td", {}, e.waited));
    tr.appendChild(el("td", {}, e.channel_words));
    tr.appendChild(el("td", {}, e.skill));
    tr.appendChild(el("td", e.priority > 0 ? { "class": "prio-high" } : {}, String(e.priority)));
    tr.appendChild(el("td", {}, e.need_words));
    var why = el("td", {}, (e.reason_words || e.reason || "") + " ");
    if (e.rule_id) why.appendChild(el("span", { "class": "muted" }, "(" + e.rule_words + ")"));
    tr.appendChild(why);
    var link = el("td");
    link.appendChild(el("a", { href: e.url },
      say(mine ? "Open contact {id}" : "View contact {id}", { id: e.contact_id })));
    tr.appendChild(link);
    return tr;
  }

  function fillBody(tbody, entries, mine, emptyText) {
    var focusedContact = null;
    if (tbody.contains(document.activeElement)) {
      var row = document.activeElement.closest("tr");
      focusedContact = row && row.getAttribute("data-contact");
    }
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    if (!entries.length) {
      var tr = el("tr", { "class": "empty" });
      tr.appendChild(el("td", { colspan: "7" }, emptyText));
      tbody.appendChild(tr);
      return;
    }
    entries.forEach(function (e) {
      var row = entryRow(e, mine);
      tbody.appendChild(row);
      // Keep keyboard focus on the same link when the list is redrawn.
      if (focusedContact === String(e.contact_id)) row.querySelector("a").focus();
    });
  }

  // The offers to this agent, drawn by the server (its forms carry their CSRF tokens): when
  // the queue's offers differ from the ones on the page, the slot is taken from the page
  // itself, fetched again, unless the agent's focus is in it.
  function offerIds(list) {
    return list.map(function (x) { return String(x); }).sort().join(",");
  }

  function redrawOffers(offers) {
    var slot = document.getElementById("offers-slot");
    if (!slot || !window.DOMParser || slot.contains(document.activeElement)) return;
    var drawn = Array.prototype.map.call(slot.querySelectorAll("li[data-offer]"), function (li) {
      return li.getAttribute("data-offer");
    });
    if (offerIds(drawn) === offerIds(offers.map(function (o) { return o.offer_id; }))) return;
    fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("status " + r.status);
        return r.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("offers-slot");
        if (!fresh || slot.contains(document.activeElement)) return;
        while (slot.firstChild) slot.removeChild(slot.firstChild);
        while (fresh.firstChild) slot.appendChild(document.adoptNode(fresh.firstChild));
        var left = slot.querySelectorAll("span.offer-left[data-left]");
        if (left.length) startOffers(left);
      })
      .catch(function () { /* the next change of the queue tries again */ });
  }

  function startQueue(table) {
    var live = document.getElementById("queue-live");
    var count = document.getElementById("queue-count");
    var mineBody = document.querySelector("#mine tbody");
    var known = {};
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr[data-contact]"), function (tr) {
      known[tr.getAttribute("data-contact")] = true;
    });

    function refresh(again) {
      getJSON(table.getAttribute("data-source")).then(function (data) {
        var fresh = data.waiting.filter(function (e) { return !known[String(e.contact_id)]; });
        known = {};
        data.waiting.forEach(function (e) { known[String(e.contact_id)] = true; });
        fillBody(table.querySelector("tbody"), data.waiting, false, say("Nobody is waiting."));
        if (mineBody) fillBody(mineBody, data.mine, true, say("You have no open contacts."));
        count.textContent = "";
        count.appendChild(el("strong", {}, String(data.count)));
        count.appendChild(document.createTextNode(" " + say(data.count === 1 ? "contact waiting" : "contacts waiting")));
        (data.offers || []).forEach(function (o) {
          if (!document.querySelector('li[data-offer="' + o.offer_id + '"]')) {
            live.textContent = say("offered", { id: o.contact_id });
          }
        });
        redrawOffers(data.offers || []);
        if (fresh.length) {
          var first = fresh[0];
          live.textContent = say(fresh.length === 1 ? "one new" : "many new", {
            n: fresh.length, channel: first.channel_words, need: first.need_words, total: data.count
          });
        }
      }).catch(function () {
        live.textContent = say("The queue could not be refreshed. Reload the page if this lasts.");
      }).then(function () { if (again) setTimeout(function () { refresh(true); }, QUEUE_EVERY_MS); });
    }
    follow(table, debounced(refresh), function () { setTimeout(function () { refresh(true); }, QUEUE_EVERY_MS); }, 0);
  }

  // -- a contact's page -----------------------------------------------------------------

  function messageItem(m) {
    var li = el("li", {
      "class": "msg author-" + m.author + (m.delivery_status === "blocked" ? " blocked" : ""),
      id: "m" + m.id, "data-id": String(m.id)
    });
    var meta = el("p", { "class": "meta" });
    meta.appendChild(el("span", { "class": "author" }, m.author_words));
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(el("time", { datetime: m.at }, m.clock));
    if (m.delivery_status) {
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(el("span", { "class": "delivery delivery-" + m.delivery_status },
        "· " + say("SMS:") + " " + m.delivery_words));
    }
    li.appendChild(meta);
    li.appendChild(linked(el("p", { "class": "text" }), m.text));
    return li;
  }

  function startConversation(log) {
    var stateWords = document.getElementById("state-words");
    var empty = document.getElementById("no-messages");
    var source = log.getAttribute("data-source");
    var list = log.querySelector("ol");

    function refresh(again) {
      // Ask from the start so delivery states of earlier SMS replies update too.
      getJSON(source + "?after=0").then(function (data) {
        var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
        data.messages.forEach(function (m) {
          var existing = document.getElementById("m" + m.id);
          if (!existing) {
            list.appendChild(messageItem(m));
            if (empty) { empty.remove(); empty = null; }
          } else if (m.delivery_status) {
            var status = existing.querySelector(".delivery");
            var words = "· " + say("SMS:") + " " + m.delivery_words;
            if (status && status.textContent !== words) {
              status.textContent = words;
              status.className = "delivery delivery-" + m.delivery_status;
            }
          }
        });
        if (atBottom) log.scrollTop = log.scrollHeight;
        if (stateWords.textContent !== data.state_words) stateWords.textContent = data.state_words;
      }).catch(function () { /* a missed refresh is retried on the next tick */ })
        .then(function () {
          if (again) setTimeout(function () { refresh(true); }, CONVERSATION_EVERY_MS);
        });
    }
    log.scrollTop = log.scrollHeight;
    var shown = 0;
    Array.prototype.forEach.call(list.querySelectorAll("li[data-id]"), function (li) {
      shown = Math.max(shown, Number(li.getAttribute("data-id")));
    });
    follow(log, debounced(refresh), function () {
      setTimeout(function () { refresh(true); }, CONVERSATION_EVERY_MS);
    }, shown);
  }

  // -- the supervisor board: drawn again by the web when the queues or the agents change ---

  // A safety net for a notice lost (the stream process restarting): the board also draws
  // itself again on this timer.
  var BOARD_EVERY_MS = 20000;

  function startBoard(board) {
    var source = board.getAttribute("data-source");
    var pending = false;

    // The supervisor is acting: focus is in the board, or a choice was made and not sent.
    function inUse() {
      if (board.contains(document.activeElement)) return true;
      return Array.prototype.some.call(board.querySelectorAll("select"), function (select) {
        var chosen = Array.prototype.filter.call(select.options, function (o) { return o.defaultSelected; });
        var initial = chosen.length ? chosen[0] : select.options[0];
        return initial ? !initial.selected : false;
      });
    }

    function draw() {
      // Never under the supervisor's hands: a board in use waits until they leave it.
      if (inUse()) { pending = true; return; }
      pending = false;
      fetch(source, { headers: { Accept: "text/html" }, credentials: "same-origin", cache: "no-store" })
        .then(function (r) {
          if (!r.ok) throw new Error("status " + r.status);
          return r.text();
        })
        .then(function (html) {
          var parsed = new DOMParser().parseFromString("<div>" + html + "</div>", "text/html");
          var fresh = parsed.body.firstChild;
          if (inUse()) { pending = true; return; }
          board.replaceChildren.apply(board, Array.prototype.slice.call(fresh.childNodes));
        })
        .catch(function () { /* the next change or tick draws it again */ });
    }
    board.addEventListener("focusout", function () {
      setTimeout(function () { if (pending) draw(); }, 0);
    });
    follow(board, debounced(draw), function () { /* the timer below keeps it fresh */ }, 0);
    setInterval(draw, BOARD_EVERY_MS);
  }

  // -- canned replies: a button puts its reply in the reply box, to edit before sending ---

  function startCanned(box) {
    Array.prototype.forEach.call(document.querySelectorAll("button.canned-use"), function (b) {
      b.hidden = false;
      b.addEventListener("click", function () {
        box.value = b.getAttribute("data-text");
        box.focus();
        box.setSelectionRange(box.value.length, box.value.length);
      });
    });
  }

  // -- offers to the agent: their time left counts down (the server decides) ------------

  function startOffers(spans) {
    var started = Date.now();
    function tick() {
      var gone = Math.floor((Date.now() - started) / 1000);
      var open = 0;
      Array.prototype.forEach.call(spans, function (span) {
        var left = Number(span.getAttribute("data-left")) - gone;
        span.textContent = left > 0 ? say("Time left: {n} s", { n: left }) : say("The offer has expired.");
        if (left > 0) open += 1;
      });
      if (open) setTimeout(tick, 1000);
    }
    setTimeout(tick, 1000);
  }

  var spans = document.querySelectorAll("span.offer-left[data-left]");
  if (spans.length) startOffers(spans);
  var box = document.getElementById("reply-text");
  if (box) startCanned(box);
  var table = document.getElementById("waiting");
  if (table && table.getAttribute("data-source")) startQueue(table);
  var board = document.getElementById("board");
  if (board && board.getAttribute("data-source")) startBoard(board);
  var log = document.getElementById("transcript");
  if (log) startConversation(log);
})();
