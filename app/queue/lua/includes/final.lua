-- is_final(status): a record status of a job that has ended; it never runs nor ends again.
local function is_final(status)
  return status == 'done' or status == 'failed' or status == 'expired' or status == 'cancelled'
end
-- status_before_ending(jobKey): the status of a job about to end. A record key holding
-- another type (garbage written under our name mid-run) is dropped first, so one bad key
-- cannot fail the script, nor its batch.
local function status_before_ending(jobKey)
  local kind = redis.call('TYPE', jobKey)['ok']
  if kind ~= 'hash' and kind ~= 'none' then redis.call('DEL', jobKey) end
  return redis.call('HGET', jobKey, 'status')
end
-- taken(jobKey, status, removed, workerId): the job was taken from this worker (recovered while its
-- heartbeat lapsed, a partition, and started again on another): its ending here writes nothing, or
-- the job would end twice. `removed`: what LREM of its held message from our list answered.
local function taken(jobKey, status, removed, workerId)
  return removed == 0 and status == 'running' and redis.call('HGET', jobKey, 'worker') ~= workerId
end
