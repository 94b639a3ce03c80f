//! Google Gemini generateContent as a Tollgate chat service.
