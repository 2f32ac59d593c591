--[[ reserve: queued -> held by a worker, several at once.
  Moves up to ARGV[1] messages from the consuming (right) end of the queue to the
  left of the worker's processing list: a backlog costs one round trip per batch, not
  one per job. Each move is LMOVE, so a message is always in exactly one list, and a
  worker that dies after this leaves its messages where recovery finds them.
  KEYS[1] queue list   KEYS[2] processing list of the worker
  ARGV[1] most messages to take
  Returns the messages taken, oldest first (empty when the queue is empty) ]]
local rcall = redis.call
local queue, processing = KEYS[1], KEYS[2]
local taken = {}
for i = 1, tonumber(ARGV[1]) do
  local message = rcall('LMOVE', queue, processing, 'RIGHT', 'LEFT')
  if not message then break end
  taken[i] = message
end
return taken
