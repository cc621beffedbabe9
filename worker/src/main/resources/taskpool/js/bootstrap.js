// Evaluated once in every pooled context. It receives the host bridge (the only host object a
// script can reach), defines the globals the seed's scripts use (Process, Progress, console), and
// returns the function the host calls to invoke a script function. Values cross as JSON text.
(function (host) {
  'use strict';

  function format(value) {
    if (typeof value === 'string') return value;
    if (value instanceof Error) return String(value);
    try {
      const text = JSON.stringify(value);
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

  // JSON.stringify silently drops functions and symbols; a task argument or result that holds one
  // is a mistake the user should hear about, as is a cycle.
  function toJson(value, what) {
    try {
      return JSON.stringify(value, function (key, item) {
        const type = typeof item;
        if (type === 'function' || type === 'symbol') throw new TypeError('it contains a ' + type);
        return item;
      });
    } catch (e) {
      throw new TypeError(what + ' cannot be serialised as JSON: ' + e.message);
    }
  }

  // The host answers {"ok": result} or {"error": message}; errors become JavaScript Errors so a
  // script can catch them and read err.message.
  function unwrap(reply) {
    const parsed = JSON.parse(reply);
    if (Object.prototype.hasOwnProperty.call(parsed, 'error')) throw new Error(parsed.error);
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
  };
})
