-- Replays request bodies from a file (one JSON body per line) once each, then stops.
-- Used by bench/bench_remote.py: every cast needs its own unused credential, so a body is never
-- sent twice. Each connection has at most one request in flight, so stopping after
-- (#bodies - connections) responses means no request beyond the last body is ever written.
-- Arguments (after --): METHOD PATH BODIES_FILE|- CONNECTIONS; the figures go as JSON to $WRK_OUT.
local method, path, bodies, stop_at
local sent, received = 0, 0

function init(args)
  method, path = args[1], args[2]
  bodies = {}
  if args[3] ~= "-" then
    for line in io.lines(args[3]) do bodies[#bodies + 1] = line end
  end
  stop_at = #bodies - tonumber(args[4])
end

function request()
  if #bodies == 0 then
    return wrk.format(method, path)
  end
  sent = sent + 1
  return wrk.format(method, path, { ["Content-Type"] = "application/json" }, bodies[sent])
end

function response(status, headers, body)
  received = received + 1
  if #bodies > 0 and received >= stop_at then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local e = summary.errors
  local f = assert(io.open(os.getenv("WRK_OUT"), "w"))
  f:write(string.format(
    '{"requests": %d, "duration_us": %d, "non2xx": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  f:close()
end
