-- gcra(key, perMinute): admit one request under a limit of `perMinute` requests a minute,
-- with bursts of up to that many (GCRA: the key holds the theoretical arrival time, ms,
-- by Redis's clock, so every API replica keeps one schedule). Returns the requests still
-- allowed now and the ms until the whole quota is free again; or -1 and the ms until one
-- more request is admitted (nothing booked).
local function gcra(key, perMinute)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local interval = 60000 / perMinute
  local arrival = math.max(tonumber(redis.call('GET', key) or 0), now) + interval
  local admitFrom = arrival - 60000
  if now < admitFrom then return -1, math.ceil(admitFrom - now) end
  redis.call('SET', key, string.format('%.3f', arrival), 'PX', math.ceil(arrival - now))
  return math.floor((now + 60000 - arrival) / interval), math.ceil(arrival - now)
end
