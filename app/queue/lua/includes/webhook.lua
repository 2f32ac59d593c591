-- schedule_webhook(jobKey, outbox, now): a job that just ended and asked for a callback (its record
-- has `callback_url`, written by enqueue.lua) gets its delivery due now in the outbox, in the same
-- step as its ending: a crash can end a job or not, never end it without its delivery to come.
-- The outbox member is the job id: the key's tail after the hash tag's '}:job:' (a queue name holds
-- no braces; an id may hold ':job:'). The record keeps the delivery's state.
local function schedule_webhook(jobKey, outbox, now)
  if redis.call('HEXISTS', jobKey, 'callback_url') == 0 then return end
  redis.call('ZADD', outbox, now, string.match(jobKey, '^{[^}]*}:job:(.+)$'))
  redis.call('HSET', jobKey, 'webhook', 'pending', 'webhook_attempts', 0)
  redis.call('HDEL', jobKey, 'webhook_error', 'webhook_next_at', 'webhook_delivered_at')
end
