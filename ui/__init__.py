"""The registry's web pages for the people who govern models: browse, request, review,
approve, comment. Server-rendered Django templates; every read goes through the apps'
selectors and every write through their actions (via="ui"), so a page sees and does exactly
what the API allows."""
