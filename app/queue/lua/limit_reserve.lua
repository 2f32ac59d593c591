--[[ limit_reserve: book the next call to a model under its shared quota.
  GCRA with no burst, for requests and tokens at once: the call gets the first moment at
  which the request budget, the token budget and any 429 cool-down all allow it, and that
  moment is booked before the script returns. Callers on every worker get distinct slots
  in one round trip each and then sleep until theirs: nobody polls, and no window of any
  length sees more than its share (plus one call's tokens). Redis's clock (TIME) is the
  clock, so workers on hosts whose clocks differ keep one schedule.
  KEYS[1] limiter hash (fields requests, tokens: the next free moment of each, ms)
  KEYS[2] cool-down key (exists while a 429's delay runs)
  ARGV[1] ms per request (0 = no request limit)   ARGV[2] ms per token (0 = no token limit)
  ARGV[3] tokens the call is expected to use
  Returns the ms to wait before calling (0 = call now) ]]
local rcall = redis.call
local schedule, coolDown = KEYS[1], KEYS[2]
local t = rcall('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local per_request, per_token, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local at = now + math.max(rcall('PTTL', coolDown), 0)
if per_request > 0 or per_token > 0 then
  local next_request = tonumber(rcall('HGET', schedule, 'requests') or 0)
  local next_tokens = tonumber(rcall('HGET', schedule, 'tokens') or 0)
  if per_request > 0 then at = math.max(at, next_request) end
  if per_token > 0 then at = math.max(at, next_tokens) end
  local free_requests, free_tokens = at + per_request, at + per_token * tokens
  rcall('HSET', schedule, 'requests', free_requests, 'tokens', free_tokens)
  -- Kept while it matters, then gone: an idle model leaves no key behind.
  rcall('PEXPIRE', schedule, math.ceil(math.max(free_requests, free_tokens) - now) + 60000)
end
return math.ceil(at - now)
