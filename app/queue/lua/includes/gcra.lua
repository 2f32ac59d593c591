-- gcra_check(key, perMinute): is one more request admitted now, under a limit of `perMinute`
-- requests a minute with bursts of up to that many? (GCRA: the key holds the theoretical
-- arrival time in microseconds, by Redis's clock, so every API replica keeps one schedule;
-- integer microseconds keep it exact.) Writes nothing: gcra_book does, once the request is
-- admitted by everything else too. Returns the arrival to book, the requests still allowed
-- after this one and the microseconds until the quota is whole again; or nil and the
-- microseconds until one more request is admitted.
local function gcra_check(key, perMinute)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local interval = math.floor(60000000 / perMinute)
  local window = interval * perMinute
  local arrival = math.max(tonumber(redis.call('GET', key) or 0), now) + interval
  if arrival - window > now then return nil, arrival - window - now end
  return arrival, math.floor((now + window - arrival) / interval), arrival - now
end

local function gcra_book(key, arrival, untilWholeUs)
  redis.call('SET', key, string.format('%.0f', arrival), 'PX', math.ceil(untilWholeUs / 1000))
end
