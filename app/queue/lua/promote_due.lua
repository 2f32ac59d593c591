--[[ promote_due: delayed -> queued, for retries whose backoff has passed.
  Moves due messages to the consuming (right) end of the queue, so a retry runs next
  rather than behind the whole backlog. ZREM and RPUSH together: a message is never
  in both places, and two workers promoting at once move each message once.
  KEYS[1] delayed set   KEYS[2] queue list
  ARGV[1] now, unix seconds   ARGV[2] most messages to move
  Returns the number of messages moved ]]
local rcall = redis.call
local delayed, queue = KEYS[1], KEYS[2]
local due = rcall('ZRANGEBYSCORE', delayed, '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, message in ipairs(due) do
  rcall('ZREM', delayed, message)
  rcall('RPUSH', queue, message)
end
return #due
