--[[ batch_claim: parked -> in a batch, for the oldest waiting messages of one group.
  Moves up to ARGV[2] messages (and at most ARGV[3] bytes of them, the API's inline limit;
  always at least one) from the group's waiting list to the new batch's list, and records the
  batch as `creating` before anything is sent to the model's API: from here on, a collector
  that dies leaves a batch every worker's poller finds (due at ARGV[6]) and finishes creating.
  The batch's list is the processing list of the pseudo-worker `batch:<id>`, so the jobs start,
  complete, fail and retry through the same scripts as on a worker. A group left with waiting
  messages keeps its score (they are batched no later than the first would have been, so a
  group larger than one batch drains a batch a tick); an empty one leaves the groups set.
  KEYS[1] the group's waiting list   KEYS[2] the groups set   KEYS[3] the batches set (score: when
  it is due for a poll)   KEYS[4] the batch's hash   KEYS[5] the batch's list
  ARGV[1] the group   ARGV[2] most messages   ARGV[3] most bytes   ARGV[4] the batch's id
  ARGV[5] now, unix seconds   ARGV[6] when the batch is due if its collector is gone
  ARGV[7] the model
  Returns the messages claimed, oldest first ]]
local rcall = redis.call
local waiting, groups, batches, batch, list = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local group, most, mostBytes, id, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local claimed, bytes = {}, 0
while #claimed < most do
  local message = rcall('LINDEX', waiting, 0)
  if not message or (#claimed > 0 and bytes + #message > mostBytes) then break end
  rcall('LPOP', waiting)
  rcall('RPUSH', list, message)
  claimed[#claimed + 1] = message
  bytes = bytes + #message
end
if rcall('LLEN', waiting) == 0 then rcall('ZREM', groups, group) end
if #claimed > 0 then
  rcall('HSET', batch, 'state', 'creating', 'model', ARGV[7], 'group', group, 'created_at', now, 'jobs', #claimed)
  rcall('ZADD', batches, ARGV[6], id)
end
return claimed
