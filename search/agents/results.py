"""What the agents' tools answer, as typed records: the MCP server publishes their JSON schema
as each tool's output schema and sends them as structured content, next to a text form
(`as_text`) that an agent reads as it is. What Fathom says in them (notes, why a file failed)
is put in an agent's words as the record is made (search/wording.py)."""
from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from search.wording import AGENT, worded


class SearchHit(BaseModel):
    rank: int = Field(description="1 for the best match")
    path: str = Field(description="the file's absolute path; pass it to `get` to read the file")
    title: str = Field(description="the document's title, else its file name")
    page: int | None = Field(None, description="the PDF page of the passage (null outside PDFs)")
    first_line: int | None = Field(None, description="the passage's first line in the file (text files)")
    last_line: int | None = Field(None, description="the passage's last line in the file (text files)")
    snippet: str = Field(description="an excerpt of the passage that matched, around the query's words")
    score: float = Field(description="what the ranking used; higher is better, comparable within one answer only")
    embedded: bool = Field(description="false: the file has no vectors yet and was found by its words alone")
    modified: str | None = Field(None, description="the file's modification time, ISO 8601")

    def as_text(self) -> str:
        where = f"page {self.page}" if self.page else (
            f"lines {self.first_line}-{self.last_line}" if self.first_line else ""
        )
        facts = ", ".join(x for x in (where, f"score {self.score:.3f}",
                                      "" if self.embedded else "not embedded yet: found by its words") if x)
        return f"{self.rank}. {self.path} ({facts})\n   {self.title}\n   {self.snippet}"


class SearchAnswer(BaseModel):
    query: str = Field(description="the query, or for `similar` the file the results are like")
    results: list[SearchHit]
    words_only: bool = Field(
        description="true: ranked by the query's words alone (the embedding model is not ready yet, or "
        "nothing is embedded yet); search again later for results by meaning"
    )
    notes: list[str] = Field(default_factory=list, description="what the results do not show by themselves")
    answered_by: str = Field(description="which Fathom answered: a running Fathom, or this server")

    @field_validator("notes")
    @classmethod
    def _for_an_agent(cls, notes: list[str]) -> list[str]:
        return [worded(note, AGENT) for note in notes]

    def as_text(self) -> str:
        head = f'{len(self.results)} file(s) for "{self.query}"' + (" (by words only)" if self.words_only else "")
        lines = [head + ":" if self.results else f'No file matches "{self.query}".']
        lines += [hit.as_text() for hit in self.results]
        lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines)


class FileText(BaseModel):
    path: str
    title: str | None = Field(None, description="what the document calls itself, when it says")
    text: str = Field(description="the text Fathom indexed (for PDFs, DOCX, HTML...: the text extracted)")
    first_line: int = Field(description="line number of the text's first line in the whole document")
    last_line: int = Field(description="line number of the text's last line")
    total_lines: int
    page: int | None = Field(None, description="the PDF page asked for, if one was")
    pages: int | None = Field(None, description="how many pages the PDF has (null outside PDFs)")
    truncated: bool = Field(description="true: the text was cut at the size limit; `note` says how to read on")
    note: str | None = None

    def as_text(self) -> str:
        where = f"page {self.page} of {self.pages}, " if self.page else ""
        head = f"{self.path} ({where}lines {self.first_line}-{self.last_line} of {self.total_lines})"
        return head + "\n\n" + self.text + (f"\n\n[{self.note}]" if self.note else "")


class FolderStatus(BaseModel):
    path: str
    indexed: int
    failed: int
    skipped: int
    ignored: int


class Failure(BaseModel):
    path: str
    kind: str = Field(description="failed (could not be read) or skipped (left out on purpose)")
    reason: str

    @field_validator("reason")
    @classmethod
    def _for_an_agent(cls, reason: str) -> str:
        return worded(reason, AGENT)


class IndexStatus(BaseModel):
    folders: list[FolderStatus]
    indexed_files: int
    chunks: int
    waiting_files: int = Field(description="indexed files whose vectors are still to come (found by words meanwhile)")
    waiting_chunks: int
    failed_files: int
    skipped_files: int
    failures: list[Failure] = Field(description="failed and skipped files with why (the first 50)")
    embedding_model: str | None = Field(description="the model the index was embedded with (null: nothing yet)")
    dimension: int | None
    reranker_model: str | None
    device: str
    models: str = Field(description="where the models that answer searches are, and whether they are ready")

    def as_text(self) -> str:
        lines = ["Folders:" if self.folders else "Folders: none yet (the person who runs Fathom adds them)."]
        lines += [
            f"  {f.path}: {f.indexed} indexed, {f.failed} failed, {f.skipped} skipped, {f.ignored} ignored"
            for f in self.folders
        ]
        lines.append(f"Files: {self.indexed_files} indexed ({self.chunks} chunks), {self.failed_files} failed, "
                     f"{self.skipped_files} skipped")
        if self.waiting_files:
            lines.append(f"Waiting for vectors: {self.waiting_files} file(s), {self.waiting_chunks} chunk(s) "
                         "(searchable by their words meanwhile)")
        model = self.embedding_model or "none yet"
        lines.append(f"Embedding model: {model}" + (f" (dimension {self.dimension})" if self.dimension else ""))
        lines.append(f"Reranker: {self.reranker_model or 'none'}; device: {self.device}")
        lines.append(f"Models: {self.models}")
        lines += [f"  {f.kind}: {f.path}: {f.reason}" for f in self.failures]
        return "\n".join(lines)
