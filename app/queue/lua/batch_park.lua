--[[ batch_park: held -> parked, for batch-mode messages a worker reserved.
  A batch job makes no model call of its own: its message leaves the worker's processing list
  for the waiting list of its group (its model and options), where the batch lane's collector
  claims it (batch_claim.lua). The record is not touched: the job is still `queued`, and a
  cancel meanwhile works as for any queued job. Each group's oldest wait is its score in the
  groups set (set only when the group had none). A message no longer held (handed back or
  recovered meanwhile) is skipped.
  KEYS[1] processing list of the worker   KEYS[2] the groups set (score: since when it waits)
  KEYS[2+i] the waiting list of the i-th message's group
  ARGV[1] now, unix seconds   ARGV[2] n, the number of messages
  then 3 per message i (j = 3 + 3(i-1)): ARGV[j] the message as held, ARGV[j+1] the message
  to park (the form with its id), ARGV[j+2] its group
  Returns the number of messages parked ]]
local rcall = redis.call
local processing, groups, now, count = KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2])
local parked = 0
for i = 1, count do
  local j = 3 + 3 * (i - 1)
  if rcall('LREM', processing, 1, ARGV[j]) == 1 then
    rcall('RPUSH', KEYS[2 + i], ARGV[j + 1])
    rcall('ZADD', groups, 'NX', now, ARGV[j + 2])
    parked = parked + 1
  end
end
return parked
