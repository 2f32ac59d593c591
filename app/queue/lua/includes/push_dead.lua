-- push_dead: put an entry on the dead list and keep the list within its retention:
-- at most `most` entries, none older than `ttl_s` (by its failed_at), oldest trimmed
-- first, as BullMQ's removeOnFail {count, age}. Each write trims a few aged entries,
-- more than it adds, and the list as a whole expires `ttl_s` after its last write, so
-- an idle list does not keep its entries forever either. `<dead>:written` counts every entry
-- ever pushed (the list's length cannot: it is capped and ages out), for the dead-letter alert.
local function push_dead(dead, entry, now, most, ttl_s)
  redis.call('LPUSH', dead, entry)
  redis.call('INCR', dead .. ':written')
  redis.call('LTRIM', dead, 0, most - 1)
  for _ = 1, 10 do
    local oldest = redis.call('LINDEX', dead, -1)
    if not oldest then break end
    local failed_at = tonumber(string.match(oldest, '"failed_at":([%d%.eE+-]+)'))
    if failed_at and failed_at >= now - ttl_s then break end
    redis.call('RPOP', dead)  -- aged out (or unreadable: no age to keep it by)
  end
  redis.call('EXPIRE', dead, ttl_s)
end
