// Evaluated once in every pooled context. It receives the host bridge (the only host object a
// script can reach), defines the globals the seed's scripts use (Process, Progress, console) and
// taskpool's RetryLater, and returns the function the host calls to invoke a script function.
// Values cross as JSON text.
(function (host) {
  'use strict';

  // A value as readable text, for log lines and thrown values: never fails (a BigInt shows as 12n,
  // a cycle falls back to String(value)).
  function format(value) {
    if (typeof value === 'string') return value;
    if (value instanceof Error) return String(value);
    try {
      const text = JSON.stringify(value, function (key, item) {
        return typeof item === 'bigint' ? item.toString() + 'n' : item;
      });
      return text === undefined ? String(value) : text;
    } catch (e) {
      return String(value);
    }
  }

  function logger(level) {
    return function (...args) {
      host.log(level, args.map(format).join(' '));
    };
  }

  // Integers a JSON number holds exactly wherever it is read (JavaScript, Lua and Jackson alike).
  const MAX_EXACT = 2n ** 53n - 1n;

  // Where in the value the replacer is: nowhere for the value itself, else the index or key.
  function where(holder, key) {
    if (key === '') return '';
    return Array.isArray(holder) ? ' (at index ' + key + ')' : ' (under key "' + key + '")';
  }

  function bigintText(value) {
    const digits = value.toString();
    return (digits.length > 40 ? digits.slice(0, 20) + '…(' + digits.length + ' digits)' : digits) + 'n';
  }

  // The one rule for values leaving JavaScript (results, Process and Progress arguments): JSON, where
  // JSON.stringify would silently lose something it is an error instead. Functions and symbols would
  // be dropped, NaN and Infinity written as null, BigInts refused with a bare "Do not know how to
  // serialize": a BigInt becomes a number when it is one exactly (up to 2^53-1), else an error; -0 is 0.
  function toJson(value, what) {
    try {
      return JSON.stringify(value, function (key, item) {
        const type = typeof item;
        if (type === 'function' || type === 'symbol') throw new TypeError('it contains a ' + type + where(this, key));
        if (type === 'number' && !Number.isFinite(item)) {
          throw new TypeError('it contains ' + item + where(this, key) + ', which is no JSON number');
        }
        if (type === 'bigint') {
          if (item > MAX_EXACT || item < -MAX_EXACT) {
            throw new TypeError('BigInt ' + bigintText(item) + where(this, key) + ' does not fit a JSON number exactly'
              + ' (BigInts from -(2^53-1) to 2^53-1 become numbers; pass larger ones as strings: String(n))');
          }
          return Number(item);
        }
        return item;
      });
    } catch (e) {
      throw new TypeError(what + ' cannot be serialised as JSON: ' + e.message);
    }
  }

  // RetryLater(wait, message, options): thrown by a task's processor, it fails this run and asks
  // for the next one after `wait` ms, in place of the backoff's wait (a 429's Retry-After);
  // {counts: false}: this run does not count against the task's `attempts`. With or without `new`.
  // It is an Error (name 'RetryLater'; err.wait, err.counts), so a script may catch it. The host
  // checks the wait (0 to 7 days) when the run ends: a bad one fails the run with a message saying so.
  class RetryLaterError extends Error {
    constructor(wait, message, options) {
      super(message === undefined || message === null ? 'retry later' : String(message));
      Object.defineProperty(this, 'wait', { value: wait });
      Object.defineProperty(this, 'options', { value: options });
      const counts = options !== null && typeof options === 'object' ? options.counts : undefined;
      Object.defineProperty(this, 'counts', { value: counts === undefined ? true : counts });
      const holdsKind = options !== null && typeof options === 'object' && options.holdsKind === true;
      Object.defineProperty(this, 'holdsKind', { value: holdsKind });
    }
  }
  Object.defineProperty(RetryLaterError.prototype, 'name', { value: 'RetryLater' });
  function RetryLater(wait, message, options) {
    return new RetryLaterError(wait, message, options);
  }
  RetryLater.prototype = RetryLaterError.prototype;
  Object.defineProperty(globalThis, 'RetryLater', { value: RetryLater, writable: false, configurable: false });

  // RateLimited(wait, message): the service the processor calls limits it ("try again in 30 s"):
  // this run does not count, the task runs again after `wait` ms, and the whole kind holds back
  // until then (no worker starts a task of it). A RetryLater (err.holdsKind true).
  function RateLimited(wait, message) {
    return new RetryLaterError(wait, message === undefined || message === null ? 'rate limited' : message,
      { counts: false, holdsKind: true });
  }
  Object.defineProperty(globalThis, 'RateLimited', { value: RateLimited, writable: false, configurable: false });

  // What a thrown RetryLater asks for, checked for what only JavaScript can tell (types, unknown
  // options): {wait, counts, message}, or {problem} naming the value that is wrong.
  function retryRequest(request) {
    const options = request.options;
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object' || Array.isArray(options)) {
        return { problem: 'RetryLater: the options must be an object such as {counts: false}, got ' + format(options) };
      }
      for (const key of Object.keys(options)) {
        if (key !== 'counts' && key !== 'holdsKind') return { problem: 'RetryLater: unknown option "' + key + '"; expected counts' };
      }
    }
    if (typeof request.counts !== 'boolean') {
      return { problem: 'RetryLater: the option counts must be true or false, got ' + format(request.counts) };
    }
    const wait = request.wait;
    if (typeof wait !== 'number' || !Number.isFinite(wait)) {
      return { problem: 'RetryLater: the wait must be a number of milliseconds, got ' +
        (typeof wait === 'string' ? 'string ' + JSON.stringify(wait) : typeof wait === 'number' ? String(wait) : format(wait)) };
    }
    return { wait: wait, counts: request.counts, holdsKind: request.holdsKind === true, message: request.message };
  }

  // The host answers {"ok": result} or {"error": message}; errors become JavaScript Errors so a
  // script can catch them and read err.message. A process that asked to be retried later answers
  // {"error": message, "retryLater": {wait, counts}}: it stays a RetryLater in the calling script.
  function unwrap(reply) {
    const parsed = JSON.parse(reply);
    if (Object.prototype.hasOwnProperty.call(parsed, 'error')) {
      const later = parsed.retryLater;
      if (later) throw new RetryLaterError(later.wait, parsed.error, { counts: later.counts, holdsKind: later.holdsKind === true });
      throw new Error(parsed.error);
    }
    return parsed.ok === undefined ? null : parsed.ok;
  }

  const hostConsole = {
    log: logger('info'), info: logger('info'), debug: logger('debug'),
    warn: logger('warn'), error: logger('error'), trace: logger('debug'),
  };
  Object.defineProperty(globalThis, 'console', { value: hostConsole, writable: false, configurable: false });

  Object.defineProperty(globalThis, 'Process', {
    value: function Process(name, ...args) {
      return unwrap(host.process(String(name), toJson(args, "the arguments of Process('" + name + "')")));
    },
    writable: false, configurable: false,
  });

  Object.defineProperty(globalThis, 'Progress', {
    value: function Progress(...args) {
      unwrap(host.progress(toJson(args, 'the arguments of Progress(...)')));
    },
    writable: false, configurable: false,
  });

  return {
    // Invoke fn with the JSON argument list; the positions listed in errorsJson are error
    // messages to hand over as Error objects. Returns the result as JSON text (null for undefined).
    invoke: function invoke(fn, argsJson, errorsJson) {
      const args = JSON.parse(argsJson);
      for (const index of JSON.parse(errorsJson)) args[index] = new Error(args[index]);
      const result = fn(...args);
      if (result === undefined) return null;
      const text = toJson(result, 'the result of ' + (fn.name || 'the function'));
      return text === undefined ? null : text;
    },
    // A value a script returned, as JSON text (null for undefined).
    toJson: function (value, what) {
      const text = toJson(value, what);
      return text === undefined ? null : text;
    },
    // What a script threw, when it is a RetryLater: its request as JSON text ({wait, counts,
    // message} or {problem}); null for anything else.
    retryRequest: function (value) {
      return value instanceof RetryLaterError ? JSON.stringify(retryRequest(value)) : null;
    },
    // What a script threw, as text for the task's error: null for a bare Error (the host keeps its
    // "Name: message"); an Error with fields of its own (err.code = 7) adds them as JSON; anything
    // else (throw {code: 7}, throw 'text', throw 42) keeps its content.
    describeThrown: function (value) {
      if (!(value instanceof Error)) return format(value);
      const fields = {};
      let any = false;
      for (const key of Object.keys(value)) {
        if (key !== 'name' && key !== 'message' && key !== 'stack') {
          fields[key] = value[key];
          any = true;
        }
      }
      if (!any) return null;
      const head = value.name === 'Error' ? String(value.message) : String(value);
      return head + ' ' + format(fields);
    },
  };
})
