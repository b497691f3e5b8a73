using ToolNet.Node.Cli;

return await ToolNetCommand.Create().Parse(args).InvokeAsync().ConfigureAwait(false);
