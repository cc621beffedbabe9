-- A part for LuaSourceTest.
local function leaf() return 1 end
