using System.CommandLine;
using ToolNet.Node.Cli;

return await ToolNetCommand.Create().Parse(args).InvokeAsync(ToolNetCommand.CreateInvocationConfiguration()).ConfigureAwait(false);
