--[[ batch_due: the next batch whose poll is due, claimed for one poller.
  Pushes the batch's due time to ARGV[2] before returning it, so two pollers never poll one
  batch at once; a poller that dies leaves it due again at that time. A batch key holding
  another type than a hash (garbage under our name) is dropped: the batch then looks unmade,
  and its poller finds or makes it again.
  KEYS[1] the batches set (score: when each is due)
  ARGV[1] now, unix seconds   ARGV[2] when it is due again if its poller is gone
  ARGV[3] the prefix of a batch's hash key (the id follows)
  Returns {id, field, value, ...} of the batch's hash, or {} when none is due ]]
local rcall = redis.call
local batches, now, again, prefix = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local due = rcall('ZRANGE', batches, '-inf', now, 'BYSCORE', 'LIMIT', 0, 1)
if #due == 0 then return {} end
local id = due[1]
rcall('ZADD', batches, again, id)
local reply, batch = {id}, prefix .. id
local kind = rcall('TYPE', batch)['ok']
if kind ~= 'hash' and kind ~= 'none' then rcall('DEL', batch) end
for _, value in ipairs(rcall('HGETALL', batch)) do reply[#reply + 1] = value end
return reply
